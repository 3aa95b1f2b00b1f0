package dev.webhooks.dispatcher.delivery;

import io.vertx.core.Future;

/**
 * Where deliveries leave the courier for Kafka: dead letters, and retries waiting for their next attempt. Each future
 * completes once the broker has acknowledged the record, which is what lets the source record be committed. A write
 * that could succeed later fails with whatever went wrong; one that never can, because the record is over what the
 * producer or the topic takes, fails with {@link TooLarge}, so the caller writes something smaller instead of trying
 * again for good.
 */
public interface Outbox {
  Future<Void> deadLetter(DeadLetter deadLetter);

  /** Writes {@code retry} to the retry topic of {@code tier} (1 to {@code Config.RETRY_TIERS}). */
  Future<Void> retry(Retry retry, int tier);

  /** The record is larger than the producer or the topic accepts: the same write would fail every time. */
  final class TooLarge extends RuntimeException {
    public TooLarge(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
