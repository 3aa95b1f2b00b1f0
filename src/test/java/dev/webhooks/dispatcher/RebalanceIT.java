package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Partitions moving between instances under load: a second instance joins while the first is delivering (cooperative
 * rebalancing moves half the partitions), then the first shuts down with deliveries still in flight. Revoked
 * partitions commit only what is final and hand over the rest; nothing is lost, and what is delivered twice carries
 * one webhook-id.
 */
class RebalanceIT {
  private static final int EVENTS = 3000;

  @Test
  void aJoiningAndALeavingInstanceLoseNothing() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      for (int i = 0; i < EVENTS * 2; i++) {
        receiver.enqueue(Response.delayed(Duration.ofMillis(20), 200));
      }
      Map<String, String> env = RunningService.environment(TestKafka.uniqueName("rebalance"));
      env.put("TOPIC_PARTITIONS", "6");
      env.put("SHUTDOWN_GRACE_MS", "100");
      List<String> bodies = new ArrayList<>();
      for (int i = 0; i < EVENTS; i++) {
        bodies.add(Events.content("conversation", "event " + i));
      }

      RunningService first = RunningService.startWith(env);
      try (RunningService second = startSecondWhileDelivering(first, receiver, env, bodies)) {
        await().atMost(Duration.ofSeconds(60)).until(() -> second.membersWithPartitions() == 2);
        int deliveredWhenShared = distinctBodies(receiver.requests()).size();
        publish(first, bodies.subList(EVENTS / 2, EVENTS));
        await().atMost(Duration.ofSeconds(60)).until(() -> receiver.requests().size() > deliveredWhenShared + EVENTS / 10);
        int deliveredWhenFirstLeft = distinctBodies(receiver.requests()).size();
        assertThat(deliveredWhenFirstLeft).as("the first must leave while events are still waiting").isLessThan(EVENTS);
        // A short grace: what is final is committed, the rest is abandoned uncommitted and the second redelivers it.
        first.close();

        await().atMost(Duration.ofSeconds(90)).until(() -> distinctBodies(receiver.requests()).size() == EVENTS);
        second.awaitAllCommitted();
        List<ReceivedRequest> requests = receiver.requests();
        assertThat(distinctBodies(requests)).containsExactlyInAnyOrderElementsOf(bodies);
        Map<String, Set<String>> idsByBody = requests.stream().collect(Collectors.groupingBy(
            r -> r.body().toString(), Collectors.mapping(r -> r.header("webhook-id"), Collectors.toSet())));
        assertThat(idsByBody.values()).allSatisfy(ids -> assertThat(ids).hasSize(1));
        System.out.printf("RebalanceIT: %d events; %d delivered when the partitions were shared, %d when the first "
                + "instance left; %d POSTs, %d duplicates (same webhook-id), lost 0%n",
            EVENTS, deliveredWhenShared, deliveredWhenFirstLeft, requests.size(), requests.size() - EVENTS);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static RunningService startSecondWhileDelivering(
      RunningService first, TestReceiver receiver, Map<String, String> env, List<String> bodies) {
    first.install("rebalance-account", """
        {"client_name": "rebalance-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": 2}}}}
        """.formatted(receiver.url("/rebalance")));
    publish(first, bodies.subList(0, EVENTS / 2));
    await().atMost(Duration.ofSeconds(60)).until(() -> receiver.requests().size() >= EVENTS / 10);
    return RunningService.startWith(env);
  }

  private static void publish(RunningService service, List<String> bodies) {
    for (String body : bodies) {
      service.publishAsync("rebalance-account", "conversation-" + (body.hashCode() & 63), Events.bytes(body));
    }
  }

  private static Set<String> distinctBodies(List<ReceivedRequest> requests) {
    Set<String> bodies = new HashSet<>();
    requests.forEach(r -> bodies.add(r.body().toString()));
    return bodies;
  }
}
