package dev.webhooks.dispatcher.delivery;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How one attempt ended. Expected failures are values, never exceptions.
 *
 * <p>{@code reason} is a short machine word (it becomes a dead letter's {@code reason} or a log field), {@code error}
 * one human line.
 */
public sealed interface DeliveryOutcome {
  /** The reason of an attempt not made because its endpoint's circuit is open (see {@code EndpointGates}). */
  String CIRCUIT_OPEN = "circuit-open";
  /**
   * The reason of an attempt not made because no connection to its endpoint came free in time while the endpoint was
   * answering (see {@code EndpointGates}): the dispatcher held it back, so it is deferred, not a failed attempt.
   */
  String NO_FREE_CONNECTION = "no-free-connection";

  /** The {@code status_class} metric label: {@code 2xx}..{@code 5xx}, or the kind of failure without a status. */
  String statusClass();

  OptionalInt status();

  /** The receiver answered 200 or 201. */
  record Delivered(int code) implements DeliveryOutcome {
    @Override
    public String statusClass() {
      return code / 100 + "xx";
    }

    @Override
    public OptionalInt status() {
      return OptionalInt.of(code);
    }
  }

  /** Worth another attempt if the webhook has retries left; {@code retryAfter} is the receiver's own request. */
  record RetryableFailure(OptionalInt status, String reason, String error, Optional<Duration> retryAfter)
      implements DeliveryOutcome {
    @Override
    public String statusClass() {
      return status.isPresent() ? status.getAsInt() / 100 + "xx" : reason;
    }
  }

  /** Never worth another attempt (refused by policy): goes straight to the dead letters. */
  record PermanentFailure(OptionalInt status, String reason, String error) implements DeliveryOutcome {
    @Override
    public String statusClass() {
      return status.isPresent() ? status.getAsInt() / 100 + "xx" : reason;
    }
  }
}
