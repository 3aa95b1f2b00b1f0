package dev.webhooks.dispatcher.delivery;

/** The Kafka record a delivery comes from; {@code timestamp} is the record's timestamp in epoch millis. */
public record Source(String topic, int partition, long offset, long timestamp) {
  /** The {@code source} header of a dead letter: {@code topic/partition/offset}. */
  @Override
  public String toString() {
    return topic + "/" + partition + "/" + offset;
  }
}
