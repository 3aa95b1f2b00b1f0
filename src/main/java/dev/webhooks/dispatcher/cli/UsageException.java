package dev.webhooks.dispatcher.cli;

/** A command line that cannot be run as given; its message tells the user what to change. Exit code 2. */
public final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UsageException(String message) {
    super(message, null, false, false);
  }
}
