package dev.webhooks.dispatcher.delivery;

import io.vertx.core.Future;

/** Writes dead letters durably; the future completes once the broker has acknowledged the record. */
public interface DeadLetterWriter {
  Future<Void> write(DeadLetter deadLetter);
}
