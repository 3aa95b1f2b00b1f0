package dev.webhooks.dispatcher.testing;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/**
 * Every log line of this JVM (ours, Vert.x's, Kafka's, Netty's), with its stack traces, from {@link #capture()} until
 * {@link #close()}: for tests that scan the output for things that must never be logged.
 */
public final class CapturedLogs extends AbstractAppender implements AutoCloseable {
  private final StringBuffer text = new StringBuffer();

  private CapturedLogs() {
    super("captured-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
  }

  /** Attaches to the root logger (and to any logger that does not pass its lines on), at the configured levels. */
  public static CapturedLogs capture() {
    CapturedLogs logs = new CapturedLogs();
    logs.attach();
    return logs;
  }

  private void attach() {
    super.start();
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
    context.getConfiguration().getRootLogger().addAppender(this, null, null);
    for (LoggerConfig config : context.getConfiguration().getLoggers().values()) {
      if (!config.getAppenders().containsKey(getName()) && !config.isAdditive()) {
        config.addAppender(this, null, null);
      }
    }
    context.updateLoggers();
  }

  @Override
  public void append(LogEvent event) {
    StringBuilder line = new StringBuilder()
        .append(event.getLevel()).append(' ').append(event.getLoggerName()).append(" - ")
        .append(event.getMessage().getFormattedMessage()).append('\n');
    if (event.getThrown() != null) {
      StringWriter trace = new StringWriter();
      event.getThrown().printStackTrace(new PrintWriter(trace));
      line.append(trace);
    }
    text.append(line);
  }

  /** Everything captured so far. */
  public String text() {
    return text.toString();
  }

  @Override
  public void close() {
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
    context.getConfiguration().getRootLogger().removeAppender(getName());
    for (LoggerConfig config : context.getConfiguration().getLoggers().values()) {
      config.removeAppender(getName());
    }
    context.updateLoggers();
    stop();
  }
}
