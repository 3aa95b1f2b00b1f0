package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Records that cannot be routed become dead letters with their reason, and never stop the good ones behind them. */
class PoisonIT {
  private static final int MAX_EVENT_BYTES = 4096;
  private static Vertx vertx;
  private static TestReceiver receiver;
  private static RunningService service;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    // One partition: every poison record sits directly in front of a good one.
    service = RunningService.start(Map.of("TOPIC_PARTITIONS", "1", "MAX_EVENT_BYTES", String.valueOf(MAX_EVENT_BYTES)));
  }

  @AfterAll
  static void stop() throws Exception {
    service.close();
    receiver.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void eachPoisonRecordIsADeadLetterWithItsReasonAndTheGoodRecordBehindItIsDelivered() {
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    service.install(account, """
        {"client_name": "poison-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s"}}}}
        """.formatted(receiver.url("/" + account)));
    String tooLarge = Events.content("c", "x".repeat(MAX_EVENT_BYTES));
    Map<String, byte[]> poison = Map.of(
        "invalid-json", "{\"kind\":\"notification\",".getBytes(StandardCharsets.UTF_8),
        "missing-account", Events.bytes(Events.content("c", "no account header")),
        "unknown-type", Events.bytes("{\"kind\":\"notification\",\"body\":{\"changes\":[]},\"type\":\"ms.Unknown\"}"),
        "too-large", Events.bytes(tooLarge));

    poison.forEach((reason, value) -> {
      RecordMetadata bad = service.publish(reason.equals("missing-account") ? null : account, "c", value);
      service.publish(account, "c", Events.bytes(Events.content("c", "good after " + reason + " at " + bad.offset())));
    });

    await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() == poison.size());
    List<ConsumerRecord<byte[], byte[]>> letters = service.awaitDeadLetters(r -> true, poison.size());
    assertThat(letters).extracting(r -> RunningService.header(r, "reason"))
        .containsExactlyInAnyOrderElementsOf(poison.keySet());
    for (ConsumerRecord<byte[], byte[]> letter : letters) {
      String reason = RunningService.header(letter, "reason");
      assertThat(letter.value()).as(reason).isEqualTo(poison.get(reason));
      assertThat(RunningService.header(letter, "error")).as(reason).isNotBlank().doesNotContain("\n");
      assertThat(RunningService.header(letter, "source")).as(reason).startsWith(service.eventsTopic() + "/0/");
      assertThat(RunningService.header(letter, "account-id")).as(reason)
          .isEqualTo(reason.equals("missing-account") ? "" : account);
    }
    assertThat(receiver.requests()).extracting(r -> r.body().toString())
        .allSatisfy(body -> assertThat(body).contains("good after"));
    service.awaitAllCommitted();
    assertThat(service.scrape()).contains("webhook_dead_letters_total{reason=\"too-large\"} 1.0")
        .contains("webhook_events_consumed_total{result=\"rejected\"} 4.0");
  }
}
