package dev.webhooks.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.CapturedLogs;
import dev.webhooks.dispatcher.testing.RefusingConsumer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.junit.jupiter.api.Test;

/**
 * The polling thread against a consumer whose polls fail as a real one's do when the broker refuses the group
 * ({@link RefusingConsumer}); the classification itself is {@link ConsumerFailure}'s alone.
 */
class EventConsumerTest {
  private static final String GROUP = "webhook-dispatcher";

  @Test
  void anUnauthorizedGroupIsLoggedOnceBlocksReadinessIsTriedWithGrowingPausesAndRecoversOnceGranted()
      throws Exception {
    RefusingConsumer kafka = new RefusingConsumer(GroupAuthorizationException.forGroupId(GROUP));
    EventConsumer consumer = new EventConsumer(kafka, List.of("events"), new EventDecoder(1 << 20, List.of()),
        new IgnoringSink(), 100, Duration.ofMinutes(1));
    try (CapturedLogs logs = CapturedLogs.capture()) {
      consumer.start();
      await().atMost(Duration.ofSeconds(20)).until(() -> kafka.attempts.size() >= 3);

      assertThat(consumer.isBlocked()).as("not ready while the group is refused").isTrue();
      assertThat(consumer.isRunning()).isTrue();
      assertThat(logs.text().lines().filter(line -> line.startsWith("ERROR"))).singleElement().asString()
          .contains("consumer group webhook-dispatcher is not authorized: grant READ on group webhook-dispatcher");
      assertThat(logs.text()).doesNotContain("\tat org.apache.kafka"); // no stack traces
      long firstToThird = kafka.attempts.get(2) - kafka.attempts.get(0);
      assertThat(Duration.ofNanos(firstToThird)).as("paused 1 s, then 2 s").isGreaterThanOrEqualTo(Duration.ofSeconds(3));

      kafka.failure = null; // the ACL is granted
      await().atMost(Duration.ofSeconds(20)).until(() -> !consumer.isBlocked());
      assertThat(logs.text()).contains("The event consumer polls again");
    } finally {
      consumer.close(Map.of()).get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * A drain does not poll. Were the time allowed between polls shorter than the drain, the group would hand the
   * partitions to another instance while this one still delivers them (duplicates, then a final commit refused).
   */
  @Test
  void theGroupAllowsADrainingConsumerMoreThanTheWholeGraceWithoutPolling() {
    for (Duration grace : List.of(Duration.ZERO, Duration.ofSeconds(20), Duration.ofMinutes(10), Duration.ofHours(24))) {
      ConsumerConfig config = new ConsumerConfig(EventConsumer.consumerConfig("localhost:9092", GROUP, 500, grace));

      Duration maxPollInterval = Duration.ofMillis(config.getInt(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG));

      assertThat(maxPollInterval).as("grace %s", grace)
          .isGreaterThanOrEqualTo(grace.plusSeconds(30))
          .isGreaterThanOrEqualTo(Duration.ofMinutes(5)); // never below Kafka's default
    }
  }

  private static final class IgnoringSink implements EventConsumer.Sink {
    @Override
    public void accept(List<Incoming> batch) {}

    @Override
    public CompletableFuture<Map<TopicPartition, Long>> revoke(Collection<TopicPartition> partitions) {
      return CompletableFuture.completedFuture(Map.of());
    }

    @Override
    public void lose(Collection<TopicPartition> partitions) {}
  }
}
