package dev.webhooks.loadtest;

import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import io.vertx.core.buffer.Buffer;

/**
 * What the harness asks Kafka: topics, the group's committed offsets, and the dead letters. Also watches the committed
 * offsets once a second to find the longest stall of any partition that had work waiting.
 */
final class KafkaSide implements AutoCloseable {
  static final int PARTITIONS = 6;
  final String bootstrap;
  final String events = "load-events";
  final String deadLetters = "load-dead-letters";
  /** The prefix of the dispatcher's retry topics, {@code load-retries-1} to {@code -5} (the baseline has none). */
  final String retries = "load-retries";
  final String group = "load-dispatcher";
  private final Admin admin;
  private final Map<Integer, Long> lastCommitted = new HashMap<>();
  private final Map<Integer, Long> lastAdvanceNanos = new HashMap<>();
  private volatile long maxStallNanos;

  KafkaSide(String bootstrap) {
    this.bootstrap = bootstrap;
    this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  /**
   * Creates the topics and waits until every partition has a leader: producing at once to a brand-new topic got
   * NOT_LEADER_OR_FOLLOWER and then an idempotent producer stuck forever in OUT_OF_ORDER_SEQUENCE_NUMBER retries.
   */
  void createTopics() throws Exception {
    admin.createTopics(List.of(new NewTopic(events, PARTITIONS, (short) 1), new NewTopic(deadLetters, PARTITIONS,
        (short) 1))).all().get(30, TimeUnit.SECONDS);
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      boolean led = admin.describeTopics(List.of(events, deadLetters)).allTopicNames().get(10, TimeUnit.SECONDS)
          .values().stream().flatMap(d -> d.partitions().stream()).allMatch(p -> p.leader() != null
              && !p.leader().isEmpty());
      if (led) {
        Thread.sleep(500); // leadership known to the controller a moment before every listener serves it
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("topics have no leader after 30 s");
  }

  Map<Integer, Long> committed() throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets =
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
    Map<Integer, Long> out = new HashMap<>();
    offsets.forEach((tp, om) -> {
      if (tp.topic().equals(events) && om != null) {
        out.put(tp.partition(), om.offset());
      }
    });
    return out;
  }

  Map<Integer, Long> endOffsets(String topic) throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      request.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    return admin.listOffsets(request).all().get(10, TimeUnit.SECONDS).entrySet().stream()
        .collect(Collectors.toMap(e -> e.getKey().partition(), e -> e.getValue().offset()));
  }

  /** One observation of commit progress; call about once a second while the system runs. */
  void watchCommits() {
    try {
      long now = System.nanoTime();
      Map<Integer, Long> committed = committed();
      Map<Integer, Long> ends = endOffsets(events);
      for (int p = 0; p < PARTITIONS; p++) {
        long c = committed.getOrDefault(p, 0L);
        long end = ends.getOrDefault(p, 0L);
        Long before = lastCommitted.put(p, c);
        if (before == null || c > before || c >= end) {
          lastAdvanceNanos.put(p, now);
        } else {
          maxStallNanos = Math.max(maxStallNanos, now - lastAdvanceNanos.get(p));
        }
      }
    } catch (Exception e) {
      // the system may be between commits or the group not yet created; the next look decides
    }
  }

  double maxCommitStallSeconds() {
    return maxStallNanos / 1e9;
  }

  /** The event numbers of every dead letter on the topic now. */
  BitSet deadLetteredEvents() throws Exception {
    return eventsIn(deadLetters, Map.of());
  }

  /**
   * The event numbers of the retries the group has not committed yet: deliveries waiting in the retry topic for their
   * next attempt, not final and not lost (a restarted dispatcher takes them up). Empty when there is no retry topic.
   */
  BitSet waitingRetryEvents() throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
    Set<String> topics = admin.listTopics().names().get(10, TimeUnit.SECONDS);
    BitSet seqs = new BitSet();
    for (int tier = 1; tier <= 5; tier++) {
      String topic = retries + "-" + tier;
      if (topics.contains(topic)) {
        Map<Integer, Long> from = new HashMap<>();
        committed.forEach((tp, om) -> {
          if (tp.topic().equals(topic) && om != null) {
            from.put(tp.partition(), om.offset());
          }
        });
        seqs.or(eventsIn(topic, from));
      }
    }
    return seqs;
  }

  /** The event numbers in {@code topic}, read from {@code from} (per partition; the beginning if absent) to the end. */
  private BitSet eventsIn(String topic, Map<Integer, Long> from) throws Exception {
    BitSet seqs = new BitSet();
    Map<Integer, Long> ends = endOffsets(topic);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
      List<TopicPartition> partitions = ends.keySet().stream().map(p -> new TopicPartition(topic, p)).toList();
      consumer.assign(partitions);
      partitions.forEach(tp -> consumer.seek(tp, from.getOrDefault(tp.partition(), 0L)));
      long deadline = System.currentTimeMillis() + 60_000;
      while (System.currentTimeMillis() < deadline
          && partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp.partition()))) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          long seq = Receivers.number(Buffer.buffer(r.value()), "\"loadSeq\":");
          if (seq >= 0) {
            seqs.set((int) seq);
          }
        }
      }
    }
    return seqs;
  }

  @Override
  public void close() {
    admin.close(Duration.ofSeconds(5));
  }
}
