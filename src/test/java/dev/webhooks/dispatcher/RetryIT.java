package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Failed attempts end to end: retries with growing gaps and a stable id, dead letters with every documented header,
 * redirects not followed, slow answers cut off by the response timeout. Each test has a receiver of its own, so the
 * scripted answers of one never reach another.
 */
class RetryIT {
  private static Vertx vertx;
  private static RunningService service;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    // 1 s base delay: the gaps (>= 1 s, >= 2 s) are long enough that each attempt's timestamp is a new second.
    service = RunningService.start(Map.of("RETRY_BASE_DELAY_MS", "1000"));
  }

  @AfterAll
  static void stop() throws Exception {
    service.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void twoFailuresThenSuccessAreThreeAttemptsWithGrowingGapsAndOneId() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(500, 500, 200);
      String account = install(receiver, "/retried", 2);

      publishContent(account);

      await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() == 3);
      service.awaitAllCommitted();
      List<ReceivedRequest> attempts = receiver.requests();
      assertThat(attempts).hasSize(3);
      assertThat(attempts).extracting(r -> r.header("webhook-id")).containsOnly(attempts.get(0).header("webhook-id"));
      assertThat(attempts).extracting(r -> Long.parseLong(r.header("webhook-timestamp"))).isSorted().doesNotHaveDuplicates();
      Duration first = Duration.between(attempts.get(0).arrivedAt(), attempts.get(1).arrivedAt());
      Duration second = Duration.between(attempts.get(1).arrivedAt(), attempts.get(2).arrivedAt());
      assertThat(first).isGreaterThanOrEqualTo(Duration.ofMillis(1000));
      assertThat(second).isGreaterThanOrEqualTo(Duration.ofMillis(2000)).isGreaterThan(first);
      assertThat(attempts).extracting(r -> r.body().toString()).containsOnly(attempts.get(0).body().toString());
    }
  }

  /** While a retry waits, its event is committed and nothing of it is held in memory: it waits in the retry topic. */
  @Test
  void aRetryThatIsNotDueWaitsInKafkaNotInMemory() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(Response.retryAfter(503, "6"), Response.ok());
      String account = install(receiver, "/later", 1);

      publishContent(account);

      await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() == 1);
      service.awaitEventsCommitted();
      assertThat(receiver.requests()).as("still waiting for the retry").hasSize(1);
      assertThat(inFlight(service.scrape())).as("deliveries held in memory").isZero();
      await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() == 2);
      List<ReceivedRequest> attempts = receiver.requests();
      assertThat(Duration.between(attempts.get(0).arrivedAt(), attempts.get(1).arrivedAt()))
          .isGreaterThanOrEqualTo(Duration.ofSeconds(6));
      service.awaitAllCommitted();
    }
  }

  @Test
  void withoutRetriesOneFailureIsOneAttemptAndADeadLetterWithEveryHeader() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(500);
      String account = install(receiver, "/no-retries?q=1", 0);

      String body = publishContent(account);

      ConsumerRecord<byte[], byte[]> letter = service.awaitDeadLetterOf(account);
      assertThat(receiver.requests()).hasSize(1);
      ReceivedRequest attempt = receiver.requests().get(0);
      assertThat(new String(letter.value(), StandardCharsets.UTF_8)).isEqualTo(body);
      assertThat(new String(letter.key(), StandardCharsets.UTF_8)).isEqualTo(attempt.header("x-liveperson-client-id"));
      assertThat(RunningService.header(letter, "client-id")).isEqualTo(attempt.header("x-liveperson-client-id"));
      assertThat(RunningService.header(letter, "webhook-key")).isEqualTo("ms.MessagingEventNotification.ContentEvent");
      assertThat(RunningService.header(letter, "webhook-id")).isEqualTo(attempt.header("webhook-id"));
      assertThat(RunningService.header(letter, "endpoint")).isEqualTo(receiver.url("/no-retries?q=1"));
      assertThat(RunningService.header(letter, "attempts")).isEqualTo("1");
      assertThat(RunningService.header(letter, "last-status")).isEqualTo("500");
      assertThat(RunningService.header(letter, "reason")).isEqualTo("exhausted");
      assertThat(RunningService.header(letter, "error")).isNotBlank();
      assertThat(RunningService.header(letter, "source")).matches(service.eventsTopic() + "/\\d+/\\d+");
      service.awaitAllCommitted();
    }
  }

  @Test
  void aRedirectIsNotFollowedAndCountsAsAFailure() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(Response.redirect(receiver.url("/elsewhere")));
      String account = install(receiver, "/moved", 0);

      publishContent(account);

      ConsumerRecord<byte[], byte[]> letter = service.awaitDeadLetterOf(account);
      assertThat(RunningService.header(letter, "last-status")).isEqualTo("302");
      assertThat(receiver.requests()).extracting(ReceivedRequest::uri).containsExactly("/moved");
    }
  }

  @Test
  void anAnswerAfterSixSecondsIsATimeout() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(Response.delayed(Duration.ofSeconds(6), 200));
      String account = install(receiver, "/slow", 0);

      publishContent(account);

      ConsumerRecord<byte[], byte[]> letter = service.awaitDeadLetterOf(account);
      assertThat(RunningService.header(letter, "last-status")).isEmpty();
      assertThat(RunningService.header(letter, "error")).contains("did not answer within 5000 ms");
      assertThat(receiver.requests()).hasSize(1);
    }
  }

  private static double inFlight(String metrics) {
    return metrics.lines().filter(l -> l.startsWith("webhook_deliveries_in_flight "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
  }

  private static String install(TestReceiver receiver, String path, int maxRetries) {
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    service.install(account, """
        {"client_name": "retry-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": %d}}}}
        """.formatted(receiver.url(path), maxRetries));
    return account;
  }

  private static String publishContent(String account) {
    String conversation = UUID.randomUUID().toString();
    String body = Events.content(conversation, "retry me");
    service.publish(account, conversation, Events.bytes(body));
    return body;
  }
}
