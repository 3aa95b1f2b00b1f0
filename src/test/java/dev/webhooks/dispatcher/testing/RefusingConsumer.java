package dev.webhooks.dispatcher.testing;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.KafkaException;

/**
 * A Kafka consumer whose polls fail as a real one's do while the broker refuses it (an ACL, credentials), for as long
 * as {@link #failure} is set; otherwise it waits out the poll's timeout like a real consumer with nothing to read. An
 * authorizer with SASL on the in-process test broker would cost far more than this seam.
 */
public final class RefusingConsumer extends MockConsumer<byte[], byte[]> {
  /** When each poll was made ({@link System#nanoTime}). */
  public final List<Long> attempts = new CopyOnWriteArrayList<>();
  public volatile KafkaException failure;
  private final Semaphore neverReleased = new Semaphore(0);

  public RefusingConsumer(KafkaException failure) {
    super("earliest");
    this.failure = failure;
  }

  @Override
  public ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
    attempts.add(System.nanoTime());
    KafkaException now = failure;
    if (now != null) {
      throw now;
    }
    try {
      neverReleased.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS); // the wait of a poll that finds nothing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return super.poll(Duration.ZERO);
  }
}
