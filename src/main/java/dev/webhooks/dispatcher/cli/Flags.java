package dev.webhooks.dispatcher.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A parsed command line: {@code --name value} or {@code --name=value} options, each at most once, and positional
 * arguments. Unknown options and missing values are usage errors.
 */
public record Flags(Map<String, String> options, List<String> positional) {

  /** Parses {@code args}, accepting only the option names in {@code known} (without the leading dashes). */
  public static Flags parse(List<String> args, Set<String> known) {
    Map<String, String> options = new LinkedHashMap<>();
    List<String> positional = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--") || arg.equals("--")) {
        positional.add(arg);
        continue;
      }
      String name = arg.substring(2);
      String value = null;
      int equals = name.indexOf('=');
      if (equals >= 0) {
        value = name.substring(equals + 1);
        name = name.substring(0, equals);
      }
      if (!known.contains(name)) {
        throw new UsageException("unknown option --" + name);
      }
      if (value == null) {
        if (i + 1 >= args.size() || args.get(i + 1).startsWith("--")) {
          throw new UsageException("option --" + name + " needs a value");
        }
        value = args.get(++i);
      }
      if (options.put(name, value) != null) {
        throw new UsageException("option --" + name + " is given twice");
      }
    }
    return new Flags(Map.copyOf(options), List.copyOf(positional));
  }

  public Optional<String> option(String name) {
    return Optional.ofNullable(options.get(name));
  }

  /** An option's value as a whole number within bounds, or the fallback when absent. */
  public int integer(String name, int fallback, int min, int max) {
    Optional<String> raw = option(name);
    if (raw.isEmpty()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(raw.get().trim());
      if (value < min || value > max) {
        throw new UsageException("--" + name + " must be between " + min + " and " + max + ", was " + value);
      }
      return value;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be a whole number, was '" + raw.get() + "'");
    }
  }
}
