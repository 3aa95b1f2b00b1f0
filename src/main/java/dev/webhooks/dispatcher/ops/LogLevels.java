package dev.webhooks.dispatcher.ops;

import dev.webhooks.dispatcher.config.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * Log levels per package from one environment variable, {@code LOG_LEVELS}: a comma list of {@code logger=LEVEL}, e.g.
 * {@code dev.webhooks.dispatcher.delivery=DEBUG,org.apache.kafka=INFO}. Applied on top of {@code log4j2.xml} at start.
 *
 * <p>{@code log4j2.xml} reads {@code LOG_LEVEL} and {@code LOG_FORMAT} itself, and would take a mistyped value quietly
 * (the text format for {@code LOG_FORMAT=JSON}, a default level for {@code LOG_LEVEL=verbose}): they are checked here.
 */
public final class LogLevels {
  public static final String VARIABLE = "LOG_LEVELS";
  private static final String LEVELS = "OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE, ALL";
  /** As {@code log4j2.xml}'s arbiter compares them: exactly. */
  private static final Set<String> FORMATS = Set.of("text", "json");

  private LogLevels() {}

  /** Parses {@code spec} (null or blank: nothing); a malformed entry stops start-up naming the variable. */
  public static Map<String, Level> parse(String spec) {
    List<String> problems = new ArrayList<>();
    Map<String, Level> levels = parse(spec, problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return levels;
  }

  private static Map<String, Level> parse(String spec, List<String> problems) {
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
      String name = eq < 0 ? "" : trimmed.substring(eq + 1).trim().toUpperCase(Locale.ROOT);
      Level level = name.isEmpty() ? null : Level.getLevel(name); // which throws for an empty name
      if (logger.isEmpty() || level == null) {
        problems.add(VARIABLE + ": '" + trimmed + "' is not logger=LEVEL (levels: " + LEVELS + ")");
      } else {
        levels.put(logger, level);
      }
    }
    return levels;
  }

  /**
   * Checks {@code LOG_LEVEL}, {@code LOG_FORMAT} and {@code LOG_LEVELS} of {@code env}, naming every one that is wrong,
   * then applies {@code LOG_LEVELS} to the running log4j configuration.
   */
  public static void apply(Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    String level = env.getOrDefault("LOG_LEVEL", "").trim();
    if (!level.isEmpty() && Level.getLevel(level.toUpperCase(Locale.ROOT)) == null) {
      problems.add("LOG_LEVEL must be one of " + LEVELS + ", was '" + level + "'");
    }
    String format = env.getOrDefault("LOG_FORMAT", "");
    if (!format.isEmpty() && !FORMATS.contains(format)) {
      problems.add("LOG_FORMAT must be text or json (lower case), was '" + format + "'");
    }
    Map<String, Level> levels = parse(env.get(VARIABLE), problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    if (!levels.isEmpty()) {
      Configurator.setLevel(levels);
    }
  }
}
