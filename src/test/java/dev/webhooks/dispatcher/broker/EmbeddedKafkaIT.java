package dev.webhooks.dispatcher.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.ConfigException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dataDir;

  @Test
  void keepsTopicsAndRecordsAcrossARestartOnTheSameDataDir() throws Exception {
    Config config = Config.fromEnv(Map.of("DATA_DIR", dataDir.toString(), "EMBEDDED_KAFKA_PORT", "0"));

    try (EmbeddedKafka kafka = EmbeddedKafka.of(config)) {
      String bootstrap = kafka.start();
      assertThat(bootstrap).startsWith("localhost:").doesNotEndWith(":0");
      try (Admin admin = admin(bootstrap)) {
        assertThat(Topics.ensure(admin, config, TIMEOUT))
            .containsExactlyInAnyOrder("messaging-events", "webhook-dead-letters", "webhook-retries-1",
                "webhook-retries-2", "webhook-retries-3", "webhook-retries-4", "webhook-retries-5", "app-installations");
        // the broker learns of a new topic from the controller a moment after creation: until then it does not host it
        await().atMost(TIMEOUT).ignoreExceptions().untilAsserted(() -> {
          assertThat(partitions(admin, "messaging-events")).isEqualTo(config.topicPartitions());
          assertThat(cleanupPolicy(admin, "app-installations")).isEqualTo("compact");
        });
      }
      produce(bootstrap, "messaging-events", "conv-1", "first event");
      assertThat(consumeAll(bootstrap, "messaging-events")).containsExactly("conv-1=first event");
    }
    assertThat(dataDir.resolve("kafka/meta.properties")).exists();

    try (EmbeddedKafka kafka = EmbeddedKafka.of(config)) {
      String bootstrap = kafka.start();
      try (Admin admin = admin(bootstrap)) {
        assertThat(Topics.ensure(admin, config, TIMEOUT)).isEmpty();
        assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).contains("messaging-events");
      }
      assertThat(consumeAll(bootstrap, "messaging-events")).containsExactly("conv-1=first event");
    }
  }

  @Test
  void refusesASecondBrokerOnTheSameDataDirAndLeavesTheFirstOneWhole() throws Exception {
    Config config = Config.fromEnv(Map.of("DATA_DIR", dataDir.toString(), "EMBEDDED_KAFKA_PORT", "0"));
    EmbeddedKafka first = EmbeddedKafka.of(config);
    try {
      String bootstrap = first.start();
      try (Admin admin = admin(bootstrap)) {
        Topics.ensure(admin, config, TIMEOUT);
      }

      long refusing = System.nanoTime();
      try (EmbeddedKafka second = EmbeddedKafka.of(config)) {
        assertThatThrownBy(second::start)
            .isInstanceOf(ConfigException.class)
            .hasMessageContaining("DATA_DIR " + dataDir + " is in use by another running dispatcher")
            .hasMessageContaining("its own DATA_DIR, HTTP_PORT, MANAGEMENT_PORT and EMBEDDED_KAFKA_PORT");
      }
      assertThat(Duration.ofNanos(System.nanoTime() - refusing)).as("refused before starting anything")
          .isLessThan(Duration.ofSeconds(5));

      produce(bootstrap, "messaging-events", "conv-1", "after the refusal");
      assertThat(consumeAll(bootstrap, "messaging-events")).containsExactly("conv-1=after the refusal");
    } finally {
      long stopping = System.nanoTime();
      first.close();
      assertThat(Duration.ofNanos(System.nanoTime() - stopping)).as("a clean stop")
          .isLessThan(EmbeddedKafka.STOP_TIMEOUT);
    }

    try (EmbeddedKafka next = EmbeddedKafka.of(config)) {
      assertThat(consumeAll(next.start(), "messaging-events")).containsExactly("conv-1=after the refusal");
    }
  }

  @Test
  void letsGoOfTheDataDirWhenItsBrokerCannotStart() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      try (EmbeddedKafka kafka = new EmbeddedKafka(dataDir, taken.getLocalPort())) {
        assertThatThrownBy(kafka::start)
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("did not start on localhost:" + taken.getLocalPort());
      }
    }

    try (EmbeddedKafka kafka = new EmbeddedKafka(dataDir, 0)) {
      assertThat(kafka.start()).startsWith("localhost:");
    }
  }

  private static Admin admin(String bootstrap) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  private static int partitions(Admin admin, String topic) throws Exception {
    return admin.describeTopics(Set.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions().size();
  }

  private static String cleanupPolicy(Admin admin, String topic) throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return admin.describeConfigs(Set.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource)
        .get("cleanup.policy").value();
  }

  private static void produce(String bootstrap, String topic, String key, String value) throws Exception {
    Map<String, Object> settings =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(settings)) {
      producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
    }
  }

  /** Reads the topic from the beginning with a fresh group until a poll comes back empty after data arrived. */
  private static List<String> consumeAll(String bootstrap, String topic) {
    Map<String, Object> settings =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.GROUP_ID_CONFIG, "it-" + System.nanoTime(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    List<String> seen = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (seen.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          seen.add(r.key() + "=" + r.value());
        }
      }
    }
    return seen;
  }
}
