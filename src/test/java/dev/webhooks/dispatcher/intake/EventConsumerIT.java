package dev.webhooks.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.delivery.Bodies;
import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.delivery.Source;
import dev.webhooks.dispatcher.testing.CapturedLogs;
import dev.webhooks.dispatcher.testing.TestKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The polling thread against a real broker: how it hands over retries from a retry topic as they come due. */
class EventConsumerIT {
  private static final int RETRIES = 1_000;

  /**
   * Jitter makes a retry topic's records come due only roughly in the order they were written. Rewinding to each next
   * one not yet due fetched the partition again every few records: polls returned these 1,000 records 15,321 times in
   * all, and 2,173 times with the retries due within {@link EventConsumer#RETRY_HANDOVER_AHEAD} handed over together
   * (none sooner).
   */
  @Test
  void retriesComingDueOutOfOrderAreHandedOverASecondAheadAtMostAndFetchedAboutOnce() throws Exception {
    String topic = TestKafka.uniqueName("retries-1");
    TestKafka.createTopic(topic, 1);
    long firstDue = System.currentTimeMillis() + 2_000;
    Random random = new Random(42);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
      for (int i = 0; i < RETRIES; i++) {
        long due = firstDue + 4L * i + random.nextInt(400); // written in order, due within 0.4 s of it
        producer.send(retry(i, due).toRecord(topic));
      }
      producer.flush();
    }

    Queue<Long> earlyByMillis = new ConcurrentLinkedQueue<>();
    KafkaConsumer<byte[], byte[]> kafka = new KafkaConsumer<>(EventConsumer.consumerConfig(
        TestKafka.bootstrapServers(), TestKafka.uniqueName("group"), 500, Duration.ofSeconds(20)));
    EventConsumer consumer = new EventConsumer(kafka, List.of(topic), new EventDecoder(1 << 20, List.of(topic)),
        new Sink(earlyByMillis), 10_000, Duration.ofMinutes(1));
    consumer.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> earlyByMillis.size() == RETRIES);
      assertThat(earlyByMillis).allSatisfy(early ->
          assertThat(early).isLessThanOrEqualTo(EventConsumer.RETRY_HANDOVER_AHEAD.toMillis()));
      assertThat(recordsPolled(kafka)).isLessThan(5.0 * RETRIES);
    } finally {
      consumer.close(Map.of()).get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Records that end behind one that does not are no longer in flight, but wait to be committed: the partition pauses
   * once {@link EventConsumer#UNCOMMITTED_PER_IN_FLIGHT} times the cap of them lie past its watermark, and flows again
   * once the watermark moves.
   */
  @Test
  void aRecordThatDoesNotEndPausesItsPartitionOnceEnoughWaitBehindIt() throws Exception {
    String topic = TestKafka.uniqueName("events");
    TestKafka.createTopic(topic, 1);
    int cap = 10;
    int maxUncommitted = cap * EventConsumer.UNCOMMITTED_PER_IN_FLIGHT;
    int onePoll = 500;
    int events = 2 * maxUncommitted; // all of them are handed over once the watermark reaches the first pause
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
      for (int i = 0; i < events; i++) {
        producer.send(new ProducerRecord<>(topic, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)));
      }
      producer.flush();
    }

    Queue<Long> handedOver = new ConcurrentLinkedQueue<>();
    KafkaConsumer<byte[], byte[]> kafka = new KafkaConsumer<>(EventConsumer.consumerConfig(
        TestKafka.bootstrapServers(), TestKafka.uniqueName("group"), onePoll, Duration.ofSeconds(20)));
    EventConsumer consumer = new EventConsumer(kafka, List.of(topic), new EventDecoder(1 << 20, List.of(topic)),
        new EndingAtOnce(handedOver), cap, Duration.ofMinutes(1));
    consumer.start();
    try {
      // every record ends at once, but the first never becomes final: the watermark stays at offset 0
      await().atMost(Duration.ofSeconds(30)).until(() -> handedOver.size() >= maxUncommitted);
      await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
          .until(() -> handedOver.size() < maxUncommitted + onePoll);

      consumer.commit(Map.of(new TopicPartition(topic, 0), (long) handedOver.size()), failed -> {});

      await().atMost(Duration.ofSeconds(30)).until(() -> handedOver.size() == events);
    } finally {
      consumer.close(Map.of()).get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Retries written by a clock a day ahead, meant to wait 0, 1 and 2 s, then one from a clock in step: the first holds
   * its partition for the longest retry delay, no longer, and its lead is then taken off the others, so the run is
   * handed over within about 2 s of it, not a longest delay apart each (nor a day later, as before).
   */
  @Test
  void retriesFromAClockFarAheadHoldTheirPartitionForTheLongestDelayOnceNotEach() throws Exception {
    String topic = TestKafka.uniqueName("retries-1");
    TestKafka.createTopic(topic, 1);
    long now = System.currentTimeMillis();
    long aDayAhead = now + Duration.ofDays(1).toMillis();
    List<Long> dues = List.of(aDayAhead, aDayAhead + 1_000, aDayAhead + 2_000, now);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
      for (int i = 0; i < dues.size(); i++) {
        producer.send(retry(i, dues.get(i)).toRecord(topic));
      }
      producer.flush();
    }

    Duration longest = Duration.ofSeconds(3);
    Queue<Long> earlyByMillis = new ConcurrentLinkedQueue<>();
    KafkaConsumer<byte[], byte[]> kafka = new KafkaConsumer<>(EventConsumer.consumerConfig(
        TestKafka.bootstrapServers(), TestKafka.uniqueName("group"), 500, Duration.ofSeconds(20)));
    EventConsumer consumer = new EventConsumer(kafka, List.of(topic), new EventDecoder(1 << 20, List.of(topic)),
        new Sink(earlyByMillis), 10_000, longest);
    try (CapturedLogs logs = CapturedLogs.capture()) {
      consumer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> earlyByMillis.size() == dues.size());
      List<Long> early = List.copyOf(earlyByMillis); // in offset order: one partition
      long first = dues.get(0) - early.get(0);
      long last = dues.get(3) - early.get(3);

      assertThat(first - now).as("the first held for the longest delay").isGreaterThanOrEqualTo(longest.toMillis());
      assertThat(last - first).as("the rest within about 2 s of it, not 3 s apart each").isLessThan(4_000);
      assertThat(logs.text().lines().filter(line -> line.contains("more than the longest retry delay"))).singleElement()
          .asString().contains("Retry wh-0 in " + topic + "-0 is due at")
          .contains("(3000 ms) from now: its writer's clock may be ahead");
    } finally {
      consumer.close(Map.of()).get(30, TimeUnit.SECONDS);
    }
  }

  private static Retry retry(int i, long dueAtMillis) {
    return new Retry("acct", "client", "messaging.ContentEvent", "wh-" + i, "https://example.com/hook", 1, 0,
        dueAtMillis, OptionalInt.of(503), "HTTP 503", new Source("events", 0, i, 0),
        Bodies.of(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)));
  }

  /** Every record the consumer's polls returned, those read again after a rewind included. */
  private static double recordsPolled(KafkaConsumer<byte[], byte[]> kafka) {
    for (Map.Entry<MetricName, ? extends Metric> metric : kafka.metrics().entrySet()) {
      MetricName name = metric.getKey();
      if (name.name().equals("records-consumed-total") && !name.tags().containsKey("topic")) {
        return (Double) metric.getValue().metricValue();
      }
    }
    throw new AssertionError("the consumer has no records-consumed-total metric");
  }

  /** A sink of one test's single consumer: no rebalance takes its partitions away, and nothing is final to commit. */
  private interface NeverRevoked extends EventConsumer.Sink {
    @Override
    default CompletableFuture<Map<TopicPartition, Long>> revoke(Collection<TopicPartition> partitions) {
      return CompletableFuture.completedFuture(Map.of());
    }

    @Override
    default void lose(Collection<TopicPartition> partitions) {}
  }

  /** Notes each record's offset and ends its work at once, as a lane does with records that are not final yet. */
  private record EndingAtOnce(Queue<Long> offsets) implements NeverRevoked {
    @Override
    public void accept(List<Incoming> batch) {
      for (Incoming incoming : batch) {
        offsets.add(incoming.source().offset());
        incoming.release();
      }
    }
  }

  /** Notes how long before its due time each retry was handed over (negative when late). */
  private record Sink(Queue<Long> earlyByMillis) implements NeverRevoked {
    @Override
    public void accept(List<Incoming> batch) {
      long now = System.currentTimeMillis();
      for (Incoming incoming : batch) {
        Retry retry = ((Decoded.Retrying) incoming.decoded()).retry();
        earlyByMillis.add(retry.dueAtMillis() - now);
        incoming.release();
      }
    }
  }
}
