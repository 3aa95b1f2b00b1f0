package dev.webhooks.dispatcher.intake;

import dev.webhooks.dispatcher.delivery.Source;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A polled record, already decoded on the polling thread so the event loop only routes and delivers.
 *
 * @param partitionInFlight the in-flight count of the record's partition (this assignment of it), which
 *     {@link #release} lowers once the record's work has ended
 */
public record Incoming(Source source, Decoded decoded, byte[] value, AtomicInteger partitionInFlight) {
  /** The record's work ended (final or abandoned): it no longer counts against its partition's in-flight cap. */
  public void release() {
    partitionInFlight.decrementAndGet();
  }
}
