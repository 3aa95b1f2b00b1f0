package dev.webhooks.dispatcher.delivery;

import java.time.Duration;

/** Carries what happens to deliveries out of the delivery core (to metrics and logs); every method defaults to nothing. */
public interface DeliveryListener {
  DeliveryListener NONE = new DeliveryListener() {};

  /** A delivery was handed to the courier. */
  default void started(Delivery delivery) {}

  /** One attempt ended; {@code attempt} counts from 1. */
  default void attempted(Delivery delivery, int attempt, DeliveryOutcome outcome, Duration took) {}

  /**
   * Attempt number {@code attempt} was held back, never sent: no connection to its endpoint came free in time (see
   * {@link RetryPolicy#defers}). The delivery is deferred for the {@code deferral}th time; {@link #retryScheduled}
   * follows, for the same attempt, once it is in the retry topic. It is no attempt: {@link #attempted} is not called.
   */
  default void deferred(Delivery delivery, int attempt, int deferral, DeliveryOutcome heldBack) {}

  /** A retry came back from the retry topic to this courier, to be attempted when due. */
  default void resumed(Retry retry) {}

  /**
   * Attempt number {@code attempt} (2 for the first retry; the same attempt after a deferral) will run after {@code
   * delay}: the delivery is in the retry topic now, out of this courier's hands until it is {@link #resumed}.
   */
  default void retryScheduled(Delivery delivery, int attempt, Duration delay) {}

  /** The receiver accepted the delivery. */
  default void delivered(Delivery delivery, int attempts) {}

  /** A delivery, or an undeliverable record, was written to the dead-letter topic. */
  default void deadLettered(DeadLetter deadLetter) {}

  /** A connection to a receiver opened ({@code +1}) or closed ({@code -1}). Called on the connection's event loop. */
  default void connectionsChanged(int delta) {}
}
