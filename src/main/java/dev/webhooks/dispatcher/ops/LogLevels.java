package dev.webhooks.dispatcher.ops;

import dev.webhooks.dispatcher.config.ConfigException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * Log levels per package from one environment variable, {@code LOG_LEVELS}: a comma list of {@code logger=LEVEL}, e.g.
 * {@code dev.webhooks.dispatcher.delivery=DEBUG,org.apache.kafka=INFO}. Applied on top of {@code log4j2.xml} at start.
 */
public final class LogLevels {
  public static final String VARIABLE = "LOG_LEVELS";

  private LogLevels() {}

  /** Parses {@code spec} (null or blank: nothing); a malformed entry stops start-up naming the variable. */
  public static Map<String, Level> parse(String spec) {
    Map<String, Level> levels = new LinkedHashMap<>();
    if (spec == null || spec.isBlank()) {
      return levels;
    }
    for (String entry : spec.split(",")) {
      String trimmed = entry.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      int eq = trimmed.indexOf('=');
      String logger = eq < 0 ? "" : trimmed.substring(0, eq).trim();
      String level = eq < 0 ? "" : trimmed.substring(eq + 1).trim().toUpperCase(Locale.ROOT);
      if (logger.isEmpty() || Level.getLevel(level) == null) {
        throw new ConfigException(VARIABLE + ": '" + trimmed + "' is not logger=LEVEL (levels: OFF, ERROR, WARN, INFO,"
            + " DEBUG, TRACE, ALL)");
      }
      levels.put(logger, Level.getLevel(level));
    }
    return levels;
  }

  /** Applies {@code spec} to the running log4j configuration. */
  public static void apply(String spec) {
    Map<String, Level> levels = parse(spec);
    if (!levels.isEmpty()) {
      Configurator.setLevel(levels);
    }
  }
}
