package dev.webhooks.dispatcher.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.ConfigException;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestKafka;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TopicsIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @Test
  void createsWhatIsMissingAndLeavesExistingTopicsAlone() throws Exception {
    String events = TestKafka.uniqueName("events");
    String existing = TestKafka.uniqueName("events-existing");
    String deadLetters = TestKafka.uniqueName("dead");
    String retries = TestKafka.uniqueName("retries");
    String installations = TestKafka.uniqueName("installations");
    TestKafka.createTopic(existing, 1);
    Config config =
        Config.fromEnv(
            Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", TestKafka.bootstrapServers(),
                "EVENTS_TOPICS", events + "," + existing,
                "DEAD_LETTER_TOPIC", deadLetters,
                "RETRY_TOPIC", retries,
                "INSTALLATIONS_TOPIC", installations,
                "TOPIC_PARTITIONS", "3"));

    try (Admin admin = TestKafka.admin()) {
      assertThat(Topics.ensure(admin, config, TIMEOUT)).containsOnly(events, deadLetters, retries + "-1", retries + "-2", retries + "-3", retries + "-4", retries + "-5",
          installations);
      assertThat(Topics.ensure(admin, config, TIMEOUT)).isEmpty();

      // A topic just created can be listed a moment before the broker describes it (UnknownTopicOrPartition).
      Map<String, TopicDescription> topics = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(
          () -> admin.describeTopics(Set.of(events, existing, deadLetters, retries + "-5", installations))
              .allTopicNames()
              .get(30, TimeUnit.SECONDS),
          described -> true);
      assertThat(topics.get(events).partitions()).hasSize(3);
      assertThat(topics.get(deadLetters).partitions()).hasSize(3);
      assertThat(topics.get(retries + "-5").partitions()).hasSize(3);
      assertThat(topics.get(existing).partitions()).hasSize(1);
      assertThat(topics.get(installations).partitions()).hasSize(1);
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, installations);
      org.apache.kafka.clients.admin.Config described = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
          .until(() -> admin.describeConfigs(Set.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource),
              settings -> true);
      assertThat(described.get("cleanup.policy").value()).isEqualTo("compact");
      assertThat(described.get("segment.ms").value()).isEqualTo("3600000");
    }
  }

  @Test
  void createsTopicsWithTheGivenReplicationFactor() throws Exception {
    String events = TestKafka.uniqueName("events");
    Map<String, String> env = Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", TestKafka.bootstrapServers(),
        "EVENTS_TOPICS", events,
        "DEAD_LETTER_TOPIC", TestKafka.uniqueName("dead"),
        "RETRY_TOPIC", TestKafka.uniqueName("retries"),
        "INSTALLATIONS_TOPIC", TestKafka.uniqueName("installations"));
    Map<String, String> two = new HashMap<>(env);
    two.put("TOPIC_REPLICATION_FACTOR", "2");

    try (Admin admin = TestKafka.admin()) {
      // the test broker is a single node: a factor of 2 reaches it and is refused there
      assertThatThrownBy(() -> Topics.ensure(admin, Config.fromEnv(two), TIMEOUT))
          .hasMessageContaining("cannot create the Kafka topics")
          .hasMessageContaining("InvalidReplicationFactorException");
      assertThat(Topics.ensure(admin, Config.fromEnv(env), TIMEOUT)).contains(events);
    }
  }

  @Test
  void refusesAnExistingInstallationsTopicThatDoesNotCompact() throws Exception {
    String deleting = createInstallationsTopic("delete");
    String compacting = createInstallationsTopic("compact");

    try (Admin admin = TestKafka.admin()) {
      assertThatThrownBy(() -> Topics.ensure(admin, configWith(deleting), TIMEOUT))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("INSTALLATIONS_TOPIC: topic " + deleting + " has cleanup.policy=delete")
          .hasMessageContaining("must include compact");
      assertThat(Topics.ensure(admin, configWith(compacting), TIMEOUT)).doesNotContain(compacting);
    }
  }

  @Test
  void refusesAnInstallationsTopicThatAlsoDeletesPastALimitButNotOneWithoutLimits() throws Exception {
    String weekLong = createInstallationsTopic("compact,delete", Map.of("retention.ms", "604800000"));
    String sized = createInstallationsTopic("compact,delete", Map.of("retention.ms", "-1", "retention.bytes", "1000000"));
    String unlimited = createInstallationsTopic("compact,delete", Map.of("retention.ms", "-1"));

    try (Admin admin = TestKafka.admin()) {
      assertThatThrownBy(() -> Topics.ensure(admin, configWith(weekLong), TIMEOUT))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("topic " + weekLong + " has cleanup.policy=compact,delete and retention.ms=604800000");
      assertThatThrownBy(() -> Topics.ensure(admin, configWith(sized), TIMEOUT))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("retention.bytes=1000000");
      assertThat(Topics.ensure(admin, configWith(unlimited), TIMEOUT)).doesNotContain(unlimited);
    }
  }

  /** With an external Kafka the service waits out what may pass; a topic that deletes installations does not. */
  @Test
  @Timeout(120)
  void theServiceRefusesToStartOnAnInstallationsTopicThatDeletesAndStartsOnOneThatCompacts() {
    String deleting = createInstallationsTopic("delete");
    assertThatThrownBy(() -> RunningService.start(Map.of("INSTALLATIONS_TOPIC", deleting)).close())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("INSTALLATIONS_TOPIC: topic " + deleting + " has cleanup.policy=delete");

    String compacting = createInstallationsTopic("compact");
    try (RunningService service = RunningService.start(Map.of("INSTALLATIONS_TOPIC", compacting))) {
      await().atMost(Duration.ofSeconds(30)).until(service.service()::isReady);
    }
  }

  @Test
  void plansOneCompactedInstallationsTopicAndSkipsDuplicateNames() {
    Config config = Config.fromEnv(Map.of("EVENTS_TOPICS", "a,b,a", "DEAD_LETTER_TOPIC", "d", "RETRY_TOPIC", "r"));

    assertThat(Topics.required(config, Optional.empty()))
        .extracting(t -> t.name())
        .containsExactly("a", "b", "d", "r-1", "r-2", "r-3", "r-4", "r-5", "app-installations");
  }

  @Test
  void plansRetryAndDeadLetterTopicsThatTakeTheLargestRecordWhenItIsOverKafkasDefault() {
    Map<String, String> small = Map.of("DEAD_LETTER_TOPIC", "d", "RETRY_TOPIC", "r");
    Map<String, String> large = new HashMap<>(small);
    large.put("MAX_EVENT_BYTES", String.valueOf(3 * 1024 * 1024));

    assertThat(Topics.required(Config.fromEnv(small), Optional.empty()))
        .filteredOn(topic -> topic.name().equals("d") || topic.name().startsWith("r-"))
        .hasSize(6)
        .allSatisfy(topic -> assertThat(topic.configs()).isEmpty());
    assertThat(Topics.required(Config.fromEnv(large), Optional.empty()))
        .filteredOn(topic -> topic.name().equals("d") || topic.name().startsWith("r-"))
        .hasSize(6)
        .allSatisfy(topic -> assertThat(topic.configs()).containsEntry("max.message.bytes", "3211264"));
  }

  /** An installations topic made by an operator, with the given {@code cleanup.policy}. */
  private static String createInstallationsTopic(String cleanupPolicy) {
    return createInstallationsTopic(cleanupPolicy, Map.of());
  }

  private static String createInstallationsTopic(String cleanupPolicy, Map<String, String> more) {
    String topic = TestKafka.uniqueName("installations-" + cleanupPolicy.replace(',', '-'));
    Map<String, String> settings = new HashMap<>(more);
    settings.put("cleanup.policy", cleanupPolicy);
    try (Admin admin = TestKafka.admin()) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(settings)))
          .all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
    return topic;
  }

  private static Config configWith(String installationsTopic) {
    String prefix = TestKafka.uniqueName("topics");
    return Config.fromEnv(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", TestKafka.bootstrapServers(),
        "EVENTS_TOPICS", prefix + "-events",
        "DEAD_LETTER_TOPIC", prefix + "-dead",
        "RETRY_TOPIC", prefix + "-retries",
        "INSTALLATIONS_TOPIC", installationsTopic));
  }
}
