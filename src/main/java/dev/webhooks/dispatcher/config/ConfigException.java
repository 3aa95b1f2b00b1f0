package dev.webhooks.dispatcher.config;

import java.util.List;

/** A configuration that cannot start the service; the message names every offending variable. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(List<String> problems) {
    super("Invalid configuration:\n  " + String.join("\n  ", problems));
  }

  public ConfigException(String problem) {
    this(List.of(problem));
  }
}
