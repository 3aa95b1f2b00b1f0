package dev.webhooks.loadtest;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The open-model producer: event {@code i} is due at {@code start + i / rate}, whatever the system does. When the
 * producer falls behind it sends the late events at once, keeping their intended time as the record timestamp and
 * latency origin, so a slow system shows up as latency instead of as a slower offered rate. Remembers each event's
 * partition, offset and app to tell lost from unfinished at the end.
 */
final class Producer implements AutoCloseable {
  private final KafkaProducer<byte[], byte[]> kafka;
  private final String topic;
  final byte[] partition;
  final long[] offset;
  final byte[] app;
  final LongAdder acked = new LongAdder();
  final LongAdder failed = new LongAdder();
  private final SplittableRandom random = new SplittableRandom(42);
  private int next;
  /** How late (µs) the last {@link #offer} handed its events to the client, worst per second of it. */
  private volatile PerSecond lateBySecond = PerSecond.NONE;
  /** How long (µs) after its intended time the broker acknowledged the events of the last {@link #offer}, likewise. */
  private volatile PerSecond ackedBySecond = PerSecond.NONE;

  Producer(String bootstrap, String topic, int capacity) {
    this.kafka = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.LINGER_MS_CONFIG, 2,
        ProducerConfig.BATCH_SIZE_CONFIG, 128 * 1024,
        ProducerConfig.BUFFER_MEMORY_CONFIG, 128L * 1024 * 1024));
    this.topic = topic;
    this.partition = new byte[capacity];
    this.offset = new long[capacity];
    this.app = new byte[capacity];
    java.util.Arrays.fill(offset, -1);
  }

  long[] lateMicrosBySecond() {
    return lateBySecond.values();
  }

  long[] ackedMicrosBySecond() {
    return ackedBySecond.values();
  }

  int produced() {
    return next;
  }

  /** Offers {@code rate} events per second for {@code seconds}; returns when the last one is handed to the client. */
  void offer(int rate, int seconds) {
    long start = System.nanoTime();
    long epochStart = System.currentTimeMillis();
    long total = (long) rate * seconds;
    double period = 1e9 / rate;
    lateBySecond = PerSecond.starting(start, 1_000_000_000L, seconds);
    ackedBySecond = PerSecond.starting(start, 1_000_000_000L, seconds);
    for (long i = 0; i < total; i++) {
      long due = start + (long) (i * period);
      long wait = due - System.nanoTime();
      if (wait > 20_000) {
        LockSupport.parkNanos(wait);
      }
      send(due, epochStart + (due - start) / 1_000_000);
      lateBySecond.max(due, (System.nanoTime() - due) / 1_000);
    }
    kafka.flush();
  }

  /** Writes {@code events} as fast as the broker takes them (the backlog). */
  void backlog(int events) {
    for (int i = 0; i < events; i++) {
      long now = System.nanoTime();
      send(now, System.currentTimeMillis());
    }
    kafka.flush();
  }

  private void send(long intendedNanos, long epochMillis) {
    int seq = next++;
    Workload.Event event = Workload.event(random, seq, intendedNanos, epochMillis);
    app[seq] = (byte) event.app();
    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, null, epochMillis,
        event.conversation().getBytes(StandardCharsets.UTF_8), event.json().getBytes(StandardCharsets.UTF_8));
    record.headers().add("account-id",
        Workload.account(event.app() / Workload.APPS_PER_ACCOUNT).getBytes(StandardCharsets.UTF_8));
    kafka.send(record, (metadata, error) -> {
      if (error != null) {
        failed.increment();
      } else {
        partition[seq] = (byte) metadata.partition();
        offset[seq] = metadata.offset();
        acked.increment();
        ackedBySecond.max(intendedNanos, (System.nanoTime() - intendedNanos) / 1_000);
      }
    });
  }

  @Override
  public void close() {
    kafka.close(java.time.Duration.ofSeconds(10));
  }

  static long toMillis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
