package dev.webhooks.dispatcher.config;

import java.util.List;

/** A configuration that cannot start the service; the message names every offending variable. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super("Invalid configuration:\n  " + String.join("\n  ", problems));
    this.problems = List.copyOf(problems);
  }

  public ConfigException(String problem) {
    this(List.of(problem));
  }

  /** Each offending setting's problem, one line each. */
  public List<String> problems() {
    return problems;
  }
}
