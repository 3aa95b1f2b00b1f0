package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.logging.log4j.core.LogEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One burst of real traffic through the whole service (some deliveries first fail and are retried, some never succeed
 * and are dead-lettered), then: the scraped counters equal what the receivers saw, every failed attempt and dead
 * letter is one structured log line, and no log line carries a secret, a signature or a custom header value.
 */
class ObservabilityIT {
  private static final int OK_EVENTS = 12;
  private static final int FLAKY_EVENTS = 6;
  private static final int FLAKY_FAILURES = 4;
  private static final int DEAD_EVENTS = 3;
  private static final String CUSTOM_HEADER_VALUE = "custom-" + UUID.randomUUID();

  private static Vertx vertx;
  private static RunningService service;
  private static RecordingAppender logs;
  private static TestReceiver ok;
  private static TestReceiver flaky;
  private static TestReceiver dead;
  private static final List<String> secrets = new ArrayList<>();
  private static final Map<String, String> accounts = new java.util.HashMap<>();

  @BeforeAll
  static void sendTraffic() {
    vertx = Vertx.vertx();
    logs = RecordingAppender.attach();
    service = RunningService.start(Map.of("RETRY_BASE_DELAY_MS", "100"));
    ok = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    flaky = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    dead = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    for (int i = 0; i < FLAKY_FAILURES; i++) {
      flaky.enqueue(500); // then 200 for everything after
    }
    for (int i = 0; i < DEAD_EVENTS * 2; i++) {
      dead.enqueue(503);
    }
    install("ok", ok, 0);
    install("flaky", flaky, 3);
    install("dead", dead, 1);

    publish("ok", OK_EVENTS);
    publish("flaky", FLAKY_EVENTS);
    publish("dead", DEAD_EVENTS);

    service.awaitDeadLetters(r -> accounts.get("dead").equals(RunningService.header(r, "account-id")), DEAD_EVENTS);
    service.awaitAllCommitted();
    for (TestReceiver receiver : List.of(ok, flaky, dead)) {
      for (ReceivedRequest request : receiver.requests()) {
        secrets.add(request.header("x-liveperson-signature").substring("sha1=".length()));
        for (String signature : request.header("webhook-signature").split(" ")) {
          secrets.add(signature.substring("v1,".length()));
        }
      }
    }
    secrets.add(RunningService.ADMIN_TOKEN);
    secrets.add(service.service().credentials().secretsKey());
    secrets.add(CUSTOM_HEADER_VALUE);
  }

  @AfterAll
  static void stop() throws Exception {
    service.close();
    logs.detach();
    for (TestReceiver receiver : List.of(ok, flaky, dead)) {
      receiver.close();
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void scrapedCountersEqualWhatTheReceiversSaw() {
    List<ReceivedRequest> all = Stream.of(ok, flaky, dead).flatMap(r -> r.requests().stream()).toList();
    long deliveredIds = Stream.of(ok, flaky).flatMap(r -> r.requests().stream())
        .map(r -> r.header("webhook-id")).distinct().count();
    long deadIds = dead.requests().stream().map(r -> r.header("webhook-id")).distinct().count();
    long distinctIds = deliveredIds + deadIds;
    assertThat(deliveredIds).isEqualTo(OK_EVENTS + FLAKY_EVENTS);
    assertThat(deadIds).isEqualTo(DEAD_EVENTS);
    assertThat(all.size()).as("some deliveries were retried").isGreaterThan((int) distinctIds);

    // Counters can lag the commit by a listener call: wait until they settle, then compare exactly.
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      Scrape scrape = new Scrape(service.scrape());
      assertThat(scrape.sum("webhook_events_consumed_total", Map.of("result", "routed")))
          .isEqualTo(OK_EVENTS + FLAKY_EVENTS + DEAD_EVENTS);
      assertThat(scrape.sum("webhook_deliveries_total", Map.of("outcome", "delivered"))).isEqualTo(deliveredIds);
      assertThat(scrape.sum("webhook_deliveries_total", Map.of("outcome", "dead_lettered"))).isEqualTo(deadIds);
      assertThat(scrape.sum("webhook_deliveries_total", Map.of("event_type", "ContentEvent")))
          .isEqualTo(distinctIds);
      assertThat(scrape.sum("webhook_dead_letters_total", Map.of("reason", "exhausted"))).isEqualTo(deadIds);
      assertThat(scrape.sum("webhook_delivery_attempts_total")).isEqualTo(all.size());
      assertThat(scrape.sum("webhook_delivery_attempts_total", Map.of("status_class", "2xx")))
          .isEqualTo(deliveredIds);
      assertThat(scrape.sum("webhook_delivery_attempts_total", Map.of("status_class", "5xx")))
          .isEqualTo(FLAKY_FAILURES + dead.requests().size());
      assertThat(scrape.sum("webhook_retries_scheduled_total")).isEqualTo(all.size() - distinctIds);
      assertThat(scrape.sum("webhook_delivery_attempt_duration_seconds_count")).isEqualTo(all.size());
      assertThat(scrape.sum("webhook_delivery_latency_seconds_count")).isEqualTo(deliveredIds);
      assertThat(scrape.sum("webhook_deliveries_in_flight")).isZero();
      assertThat(scrape.sum("webhook_delivery_connections")).as("kept-alive connections to the receivers").isPositive();
      assertThat(scrape.sum("webhook_installations", Map.of("state", "enabled"))).isEqualTo(3);
      assertThat(scrape.sum("webhook_ready")).isEqualTo(1);
    });
  }

  @Test
  void everyFailedAttemptAndDeadLetterIsOneStructuredLine() {
    List<LogEvent> lines = logs.events().stream()
        .filter(e -> e.getLoggerName().equals(DeliveryLog.class.getName()))
        .toList();
    List<LogEvent> failedAttempts = lines.stream()
        .filter(e -> e.getMessage().getFormattedMessage().startsWith("delivery attempt failed")).toList();
    List<LogEvent> deadLetters = lines.stream()
        .filter(e -> e.getMessage().getFormattedMessage().startsWith("dead letter written"))
        .filter(e -> accounts.get("dead").equals(e.getContextData().getValue("account")))
        .toList();

    assertThat(failedAttempts).hasSize(FLAKY_FAILURES + dead.requests().size());
    assertThat(deadLetters).hasSize(DEAD_EVENTS);
    Set<String> deadIds = dead.requests().stream().map(r -> r.header("webhook-id")).collect(Collectors.toSet());
    for (LogEvent line : deadLetters) {
      Map<String, String> fields = line.getContextData().toMap();
      assertThat(fields).containsEntry("account", accounts.get("dead"))
          .containsEntry("webhook_key", "ms.MessagingEventNotification.ContentEvent")
          .containsEntry("endpoint_host", "localhost")
          .containsEntry("status", "503")
          .containsEntry("attempt", "2")
          .containsEntry("reason", "exhausted")
          .containsKey("client_id");
      assertThat(fields.get("client_id")).isNotBlank();
      assertThat(deadIds).contains(fields.get("webhook_id"));
    }
    assertThat(failedAttempts).allSatisfy(line -> assertThat(line.getContextData().toMap())
        .containsKeys("account", "client_id", "webhook_key", "endpoint_host", "status", "attempt", "webhook_id"));
  }

  @Test
  void noLogLineCarriesASecretASignatureOrACustomHeaderValue() {
    List<LogEvent> events = logs.events();
    assertThat(events).isNotEmpty();
    assertThat(secrets).hasSizeGreaterThan(10).doesNotContain("");
    for (LogEvent event : events) {
      String text = RecordingAppender.everything(event);
      for (String secret : secrets) {
        assertThat(text).as("log line of %s", event.getLoggerName()).doesNotContain(secret);
      }
    }
  }

  private static void install(String name, TestReceiver receiver, int maxRetries) {
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    accounts.put(name, account);
    JsonNode app = service.install(account, """
        {"client_name": "observability-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": %d,
            "headers": [{"header_name": "X-Custom-Token", "header_value": "%s"}]}}}}
        """.formatted(receiver.url("/" + name + "?token=path-secret"), maxRetries, CUSTOM_HEADER_VALUE));
    secrets.add(app.get("client_secret").asText());
    secrets.add(app.get("webhook_secret").asText());
    secrets.add("path-secret");
  }

  private static void publish(String name, int count) {
    for (int i = 0; i < count; i++) {
      String conversation = UUID.randomUUID().toString();
      service.publish(accounts.get(name), conversation, Events.bytes(Events.content(conversation, "hello " + i)));
    }
  }
}
