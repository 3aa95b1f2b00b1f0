package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A backlog behind a slow receiver never has more than the cap (plus one poll) of a partition's records in flight:
 * memory stays bounded however far behind the dispatcher is, and everything is still delivered.
 */
class InFlightCapIT {
  private static final int EVENTS = 2000;
  private static final int CAP = 50;
  /** One poll may hand over this many records past the cap (the service's max.poll.records). */
  private static final int ONE_POLL = 500;

  @Test
  void aSlowReceiverKeepsTheBacklogInKafkaNotInMemory() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
        RunningService service = RunningService.start(Map.of(
            "TOPIC_PARTITIONS", "1", "MAX_IN_FLIGHT_PER_PARTITION", String.valueOf(CAP)))) {
      receiver.answerByDefault(Response.delayed(Duration.ofMillis(20), 200));
      service.install("cap-account", """
          {"client_name": "cap-it", "capabilities": {"webhooks": {
            "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s"}}}}
          """.formatted(receiver.url("/cap")));
      for (int i = 0; i < EVENTS; i++) {
        service.publishAsync("cap-account", "conversation", Events.bytes(Events.content("conversation", "e" + i)));
      }

      AtomicInteger mostInFlight = new AtomicInteger();
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50)).until(() -> {
        mostInFlight.accumulateAndGet(inFlight(service.scrape()), Math::max);
        return receiver.requests().size() >= EVENTS;
      });

      service.awaitAllCommitted();
      System.out.printf("InFlightCapIT: %d events, cap %d, at most %d deliveries in flight%n", EVENTS, CAP,
          mostInFlight.get());
      assertThat(mostInFlight.get()).isPositive().isLessThanOrEqualTo(CAP + ONE_POLL);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static int inFlight(String metrics) {
    return metrics.lines().filter(l -> l.startsWith("webhook_deliveries_in_flight "))
        .mapToInt(l -> (int) Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElse(0);
  }
}
