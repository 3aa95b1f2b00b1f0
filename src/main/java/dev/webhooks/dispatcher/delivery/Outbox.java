package dev.webhooks.dispatcher.delivery;

import io.vertx.core.Future;

/**
 * Where deliveries leave the courier for Kafka: dead letters, and retries waiting for their next attempt. Each future
 * completes once the broker has acknowledged the record, which is what lets the source record be committed.
 */
public interface Outbox {
  Future<Void> deadLetter(DeadLetter deadLetter);

  /** Writes {@code retry} to the retry topic of {@code tier} (1 to {@code Config.RETRY_TIERS}). */
  Future<Void> retry(Retry retry, int tier);
}
