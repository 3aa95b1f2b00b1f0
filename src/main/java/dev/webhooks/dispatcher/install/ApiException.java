package dev.webhooks.dispatcher.install;

import java.util.List;

/**
 * An expected failure of an App Install API call, with the HTTP status, a short machine code and a message for people.
 * Stackless: it is a value the failure handler renders, not a bug.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;
  private final transient List<Violation> violations;

  public ApiException(int status, String code, String message) {
    this(status, code, message, List.of());
  }

  public ApiException(int status, String code, String message, List<Violation> violations) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.violations = List.copyOf(violations);
  }

  /** 400 listing every violation at once. */
  public static ApiException invalid(List<Violation> violations) {
    return new ApiException(400, "invalid", "the request has " + violations.size() + " problem(s)", violations);
  }

  public static ApiException notFound(String what) {
    return new ApiException(404, "not-found", what + " does not exist");
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  /** The violations of a 400; empty for every other failure. */
  public List<Violation> violations() {
    return violations;
  }
}
