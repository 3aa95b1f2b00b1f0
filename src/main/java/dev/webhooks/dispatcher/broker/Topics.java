package dev.webhooks.dispatcher.broker;

import dev.webhooks.dispatcher.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The topics the service needs, created when missing: every events topic, the dead-letter topic and the five retry
 * topics with {@code TOPIC_PARTITIONS} partitions, and the compacted installations topic. Topics that exist are left
 * exactly as they are. Blocking: call it at start-up, before consumers subscribe.
 */
public final class Topics {
  private static final Logger LOG = LoggerFactory.getLogger(Topics.class);
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
    topics.putIfAbsent(
        config.deadLetterTopic(),
        new NewTopic(config.deadLetterTopic(), Optional.of(config.topicPartitions()), replicationFactor));
    for (String retries : config.retryTopics()) {
      topics.putIfAbsent(retries, new NewTopic(retries, Optional.of(config.topicPartitions()), replicationFactor));
    }
    topics.putIfAbsent(
        config.installationsTopic(),
        new NewTopic(config.installationsTopic(), Optional.of(INSTALLATIONS_PARTITIONS), replicationFactor)
            .configs(INSTALLATIONS_CONFIG));
    return List.copyOf(topics.values());
  }

  /**
   * Creates the missing topics: replication factor 1 on the embedded broker, the broker's default on an external
   * cluster.
   *
   * @return the names of the topics this call created
   */
  public static Set<String> ensure(Admin admin, Config config, Duration timeout) {
    Optional<Short> replication = config.embeddedKafka() ? Optional.of((short) 1) : Optional.empty();
    return ensure(admin, required(config, replication), timeout);
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
