package dev.webhooks.dispatcher.install;

import dev.webhooks.dispatcher.testing.TestKafka;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** A fresh compacted installations topic on the test broker, and a raw look at what it holds. */
final class InstallationTopics {
  private InstallationTopics() {}

  static String create() {
    return create(3);
  }

  /** With {@code partitions} partitions; the service creates its own with one. */
  static String create(int partitions) {
    String topic = TestKafka.uniqueName("app-installations");
    try (Admin admin = TestKafka.admin()) {
      NewTopic compacted = new NewTopic(topic, partitions, (short) 1).configs(Map.of("cleanup.policy", "compact"));
      admin.createTopics(List.of(compacted)).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
    return topic;
  }

  /**
   * Every record in the topic now, read from the beginning without a group, as the service's readers see them:
   * records of aborted transactions left out (the log cleaner removes them too).
   */
  static List<ConsumerRecord<String, byte[]>> records(String topic) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
        ConsumerConfig.CLIENT_ID_CONFIG, "raw-" + UUID.randomUUID(),
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        consumer.poll(java.time.Duration.ofMillis(200)).forEach(out::add);
      }
      return out;
    }
  }
}
