package dev.webhooks.loadtest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A consumer of the harness's own that reads the events topic beside the system under test, with the product's fetch
 * settings, and keeps the worst time from an event's intended time to its arrival here, per second of the load. A stall
 * it sees too is the broker's or the harness's; one it does not see is the system's. Opt-in ({@code --witness 1}), as
 * it reads every event once more.
 */
final class Witness implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private volatile boolean running = true;
  private volatile PerSecond worstBySecond = PerSecond.NONE;

  Witness(String bootstrap, String topic) {
    consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
    List<TopicPartition> partitions = new ArrayList<>();
    for (int p = 0; p < KafkaSide.PARTITIONS; p++) {
      partitions.add(new TopicPartition(topic, p));
    }
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    thread = new Thread(this::run, "witness");
    thread.start();
  }

  /** The load starts now (wall clock, as record timestamps are): seconds count from here. */
  void loadStarts(long epochMillis, int seconds) {
    worstBySecond = PerSecond.starting(epochMillis, 1_000, seconds);
  }

  long[] worstMillisBySecond() {
    return worstBySecond.values();
  }

  private void run() {
    try {
      watch();
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void watch() {
    while (running) {
      ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
      long now = System.currentTimeMillis(); // after the poll: read before it, a fetch's wait went uncounted
      PerSecond worst = worstBySecond;
      for (ConsumerRecord<byte[], byte[]> record : records) {
        worst.max(record.timestamp(), now - record.timestamp());
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(10_000);
  }
}
