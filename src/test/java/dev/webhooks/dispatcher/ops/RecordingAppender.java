package dev.webhooks.dispatcher.ops;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Every log event of this JVM, kept in memory from {@link #attach} to {@link #detach}. */
final class RecordingAppender extends AbstractAppender {
  private final List<LogEvent> events = new CopyOnWriteArrayList<>();

  private RecordingAppender() {
    super("recording", null, null, true, Property.EMPTY_ARRAY);
  }

  static RecordingAppender attach() {
    RecordingAppender appender = new RecordingAppender();
    appender.start();
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
    context.getConfiguration().getRootLogger().addAppender(appender, null, null);
    context.updateLoggers();
    return appender;
  }

  void detach() {
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
    context.getConfiguration().getRootLogger().removeAppender(getName());
    context.updateLoggers();
    stop();
  }

  @Override
  public void append(LogEvent event) {
    events.add(event.toImmutable());
  }

  List<LogEvent> events() {
    return List.copyOf(events);
  }

  /** Everything an event could print: logger, message, key-value fields and the stack trace with its messages. */
  static String everything(LogEvent event) {
    StringBuilder text = new StringBuilder(event.getLoggerName()).append(' ')
        .append(event.getMessage().getFormattedMessage()).append(' ')
        .append(event.getContextData().toMap());
    if (event.getThrown() != null) {
      StringWriter trace = new StringWriter();
      event.getThrown().printStackTrace(new PrintWriter(trace));
      text.append(' ').append(trace);
    }
    return text.toString();
  }
}
