package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.Ledger;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A burst to a healthy receiver that is slower than the connections it gets: two at a time per lane, answering in 300
 * ms, while an attempt waits at most 1.5 s for a free one. Most of the burst waits in vain at first. Those attempts
 * were never sent, so they are deferred, not failed: a webhook without retries still gets every event once, and nothing
 * becomes a dead letter.
 */
class BusyEndpointIT {
  private static final int EVENTS = 40;

  @Test
  void aBurstToAHealthyButBusyEndpointIsDeliveredInFullWithoutRetries() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
        RunningService service = RunningService.start(Map.of(
            "TOPIC_PARTITIONS", "1", // one lane takes the whole burst
            "DELIVERY_MAX_CONNECTIONS_PER_ENDPOINT", "2",
            // short, but long enough for a TLS handshake on a busy machine; each wait lets about 10 of the burst
            // through, so the last of it is deferred about 4 times, well within the bound
            "DELIVERY_CONNECT_TIMEOUT_MS", "1500",
            "RETRY_BASE_DELAY_MS", "100",
            "RETRY_MAX_DELAY_MS", "2000"))) {
      receiver.answerByDefault(Response.delayed(Duration.ofMillis(300), 200));
      service.install("busy-account", """
          {"client_name": "busy-it", "capabilities": {"webhooks": {
            "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": 0}}}}
          """.formatted(receiver.url("/busy")));
      Set<String> events = new HashSet<>();
      for (int i = 0; i < EVENTS; i++) {
        String conversation = "busy-" + i;
        events.add(conversation);
        byte[] event = Events.bytes(Events.content(conversation, "e" + i));
        if (i < EVENTS - 1) {
          service.publishAsync("busy-account", conversation, event);
        } else {
          service.publish("busy-account", conversation, event); // acknowledged: the burst is in the topic
        }
      }

      service.awaitAllCommitted(); // every delivery is final: delivered, or a dead letter

      assertThat(service.deadLettersSoFar()).as("dead letters")
          .extracting(l -> RunningService.header(l, "reason") + ": " + RunningService.header(l, "error")).isEmpty();
      assertThat(Ledger.deliveredEvents(receiver.requests())).containsExactlyInAnyOrderElementsOf(events);
      assertThat(receiver.requests()).as("one POST per event: a deferred attempt sends nothing").hasSize(EVENTS);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        String metrics = service.scrape();
        assertThat(sum(metrics, "webhook_delivery_deferrals_total")).as("deferrals: else the burst never waited")
            .isPositive()
            .as("every retry scheduled was a deferral: no attempt failed")
            .isEqualTo(sum(metrics, "webhook_retries_scheduled_total"));
        assertThat(sum(metrics, "webhook_delivery_attempts_total")).as("attempts: the deliveries only")
            .isEqualTo(EVENTS);
      });
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** The sum of a metric's samples, whatever their labels. */
  private static double sum(String metrics, String name) {
    return metrics.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }
}
