package dev.webhooks.dispatcher.broker;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.ConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The topics the service needs, created when missing: every events topic, the dead-letter topic and the five retry
 * topics with {@code TOPIC_PARTITIONS} partitions, and the compacted installations topic. Topics that exist are left
 * exactly as they are, but an existing installations topic must compact. Blocking: call it at start-up, before
 * consumers subscribe.
 */
public final class Topics {
  private static final Logger LOG = LoggerFactory.getLogger(Topics.class);
  /** Between descriptions of a topic that is listed but not yet known to the broker asked: a metadata update away. */
  private static final Duration DESCRIBE_RETRY_PAUSE = Duration.ofMillis(100);
  /** Installations are few and read whole by every instance; one partition keeps every change in one order. */
  private static final int INSTALLATIONS_PARTITIONS = 1;
  /** Compaction never touches the active segment: rolling hourly lets superseded installations go within hours. */
  private static final Map<String, String> INSTALLATIONS_CONFIG =
      Map.of(
          "cleanup.policy", "compact",
          "segment.ms", String.valueOf(Duration.ofHours(1).toMillis()),
          "segment.bytes", String.valueOf(16 * 1024 * 1024),
          "min.compaction.lag.ms", "0",
          "min.cleanable.dirty.ratio", "0.1",
          // An uninstall is a tombstone; a day gives any lagging reader time to see it before it disappears.
          "delete.retention.ms", String.valueOf(Duration.ofDays(1).toMillis()));

  private Topics() {}

  /** The topics the configuration names, as they would be created with the given replication factor. */
  public static List<NewTopic> required(Config config, Optional<Short> replicationFactor) {
    Map<String, NewTopic> topics = new LinkedHashMap<>();
    for (String events : config.eventsTopics()) {
      topics.put(events, new NewTopic(events, Optional.of(config.topicPartitions()), replicationFactor));
    }
    // Retries and dead letters carry an event's body: past Kafka's default size the topics must take them.
    Map<String, String> written = config.maxRecordBytes() > Config.KAFKA_DEFAULT_RECORD_BYTES
        ? Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(config.maxRecordBytes()))
        : Map.of();
    topics.putIfAbsent(
        config.deadLetterTopic(),
        new NewTopic(config.deadLetterTopic(), Optional.of(config.topicPartitions()), replicationFactor)
            .configs(written));
    for (String retries : config.retryTopics()) {
      topics.putIfAbsent(
          retries, new NewTopic(retries, Optional.of(config.topicPartitions()), replicationFactor).configs(written));
    }
    topics.putIfAbsent(
        config.installationsTopic(),
        new NewTopic(config.installationsTopic(), Optional.of(INSTALLATIONS_PARTITIONS), replicationFactor)
            .configs(INSTALLATIONS_CONFIG));
    return List.copyOf(topics.values());
  }

  /**
   * Creates the missing topics: replication factor 1 on the embedded broker; on an external cluster {@code
   * TOPIC_REPLICATION_FACTOR}, or the broker's {@code default.replication.factor} (Kafka's own default is 1: one
   * broker lost would lose the retries and the installations). An installations topic it did not create must compact.
   *
   * @return the names of the topics this call created
   * @throws ConfigException when the existing installations topic does not compact
   */
  public static Set<String> ensure(Admin admin, Config config, Duration timeout) {
    Optional<Short> replication = config.embeddedKafka() ? Optional.of((short) 1) : config.topicReplicationFactor();
    Set<String> created = ensure(admin, required(config, replication), timeout);
    if (!created.contains(config.installationsTopic())) {
      requireCompacted(admin, config.installationsTopic(), timeout);
    }
    return created;
  }

  /** Creates those of {@code topics} that do not exist yet and returns the names it created. */
  public static Set<String> ensure(Admin admin, List<NewTopic> topics, Duration timeout) {
    try {
      Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
      if (missing.isEmpty()) {
        return Set.of();
      }
      Map<String, KafkaFuture<Void>> results = admin.createTopics(missing).values();
      List<String> created = new ArrayList<>();
      for (Map.Entry<String, KafkaFuture<Void>> result : results.entrySet()) {
        if (awaitCreated(result.getValue(), timeout)) {
          created.add(result.getKey());
          LOG.info("Created Kafka topic {}", result.getKey());
        }
      }
      return Set.copyOf(created);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating Kafka topics", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot create the Kafka topics " + names(topics) + ": " + e.getMessage(), e);
    }
  }

  /**
   * The installations topic is the only copy of the installations: one this service did not create must compact, and
   * may delete only with neither a time nor a size limit, or installations older than the limit silently disappear.
   *
   * @throws ConfigException naming the topic and the setting that would delete installations
   */
  private static void requireCompacted(Admin admin, String topic, Duration timeout) {
    org.apache.kafka.clients.admin.Config settings;
    try {
      settings = settings(admin, topic, timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading the settings of topic " + topic, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot read the settings of topic " + topic + ": " + e.getMessage(), e);
    }
    String policy = value(settings, TopicConfig.CLEANUP_POLICY_CONFIG);
    Set<String> policies = Arrays.stream(policy.split(",")).map(String::trim).collect(Collectors.toSet());
    if (!policies.contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
      throw new ConfigException("INSTALLATIONS_TOPIC: topic " + topic + " has cleanup.policy=" + policy
          + ", so installations would be deleted after its retention; it must include compact (kafka-configs.sh"
          + " --alter --entity-type topics --entity-name " + topic + " --add-config cleanup.policy=compact)");
    }
    if (policies.contains(TopicConfig.CLEANUP_POLICY_DELETE)) {
      for (String limit : List.of(TopicConfig.RETENTION_MS_CONFIG, TopicConfig.RETENTION_BYTES_CONFIG)) {
        String value = value(settings, limit);
        if (!value.equals("-1")) {
          throw new ConfigException("INSTALLATIONS_TOPIC: topic " + topic + " has cleanup.policy=" + policy + " and "
              + limit + "=" + value + ", so installations past that limit would be deleted; set cleanup.policy="
              + "compact, or " + limit + "=-1");
        }
      }
    }
  }

  private static String value(org.apache.kafka.clients.admin.Config settings, String name) {
    ConfigEntry entry = settings.get(name);
    return entry == null || entry.value() == null ? "" : entry.value();
  }

  private static org.apache.kafka.clients.admin.Config settings(Admin admin, String topic, Duration timeout)
      throws InterruptedException, ExecutionException, TimeoutException {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        return admin.describeConfigs(Set.of(resource)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .get(resource);
      } catch (ExecutionException e) {
        // A topic created a moment ago (by another instance starting, say) is listed before it can be described.
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(DESCRIBE_RETRY_PAUSE.toMillis()); // on the start-up thread, never an event loop
      }
    }
  }

  /** True when this call created the topic; false when someone else did first (another instance starting). */
  private static boolean awaitCreated(KafkaFuture<Void> result, Duration timeout)
      throws InterruptedException, ExecutionException, TimeoutException {
    try {
      result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TopicExistsException) {
        return false;
      }
      throw e;
    }
  }

  private static List<String> names(List<NewTopic> topics) {
    return topics.stream().map(NewTopic::name).toList();
  }
}
