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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * One endpoint that never answers must not hold back another: every event goes to two apps, one of them behind a
 * blackhole, on one partition. The healthy app gets everything at once; the blackholed deliveries wait in the retry
 * topic, not on the partition, and once the endpoint's circuit is open they fail without tying up a connection, so
 * they are all dead letters within seconds instead of after thousands of timeouts.
 */
class IsolationIT {
  private static final int EVENTS = 400;
  private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(1);

  @Test
  void aBlackholedEndpointHoldsBackNeitherAnotherAppNorThePartition() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestReceiver healthy = TestReceiver.start(vertx, TestCertificates.shared().localhost());
        TestReceiver blackhole = TestReceiver.start(vertx, TestCertificates.shared().localhost());
        RunningService service = RunningService.start(Map.of(
            "TOPIC_PARTITIONS", "1", "DELIVERY_RESPONSE_TIMEOUT_MS", String.valueOf(RESPONSE_TIMEOUT.toMillis())))) {
      blackhole.answerByDefault(Response.delayed(Duration.ofMinutes(5), 200));
      install(service, "healthy", healthy.url("/ok"));
      install(service, "blackholed", blackhole.url("/never"));
      List<String> events = new ArrayList<>();
      for (int i = 0; i < EVENTS; i++) {
        String conversation = "iso-" + i;
        events.add(conversation);
        service.publishAsync("iso-account", conversation, Events.bytes(Events.content(conversation, "e" + i)));
      }

      Set<String> all = new HashSet<>(events);
      long started = System.nanoTime();
      await().atMost(Duration.ofSeconds(20)).until(() -> Ledger.deliveredEvents(healthy.requests()).containsAll(all));
      Duration healthyDone = Duration.ofNanos(System.nanoTime() - started);
      service.awaitAllCommitted(); // the events and every retry: nothing waits any more
      Duration allFinal = Duration.ofNanos(System.nanoTime() - started);

      List<ConsumerRecord<byte[], byte[]>> letters = service.deadLettersSoFar();
      System.out.printf("IsolationIT: healthy app done in %d ms, all final in %d ms; the blackhole saw %d requests"
          + " for %d events%n", healthyDone.toMillis(), allFinal.toMillis(), blackhole.requests().size(), EVENTS);
      Ledger.Figures books = Ledger.check("healthy app beside a blackhole", events, healthy.requests(), List.of(),
          RESPONSE_TIMEOUT);
      assertThat(books.delivered()).isEqualTo(EVENTS);
      assertThat(letters).as("every blackholed delivery ends as a dead letter").hasSize(EVENTS).allSatisfy(letter -> {
        assertThat(RunningService.header(letter, "client-id")).isNotEmpty();
        assertThat(RunningService.header(letter, "reason")).isEqualTo("exhausted");
        assertThat(RunningService.header(letter, "attempts")).isEqualTo("6");
      });
      assertThat(letters).filteredOn(l -> RunningService.header(l, "error").contains("not tried"))
          .as("most attempts were refused by the open circuit").hasSizeGreaterThan(EVENTS / 2);
      // without the circuit, every attempt would wait out the timeout: 6 per event
      assertThat(blackhole.requests()).as("requests that reached the blackhole").hasSizeLessThan(EVENTS);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static void install(RunningService service, String name, String endpoint) {
    service.install("iso-account", """
        {"client_name": "%s", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": 5}}}}
        """.formatted(name, endpoint));
  }
}
