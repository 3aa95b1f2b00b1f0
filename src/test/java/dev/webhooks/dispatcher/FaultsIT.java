package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.Ledger;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Receivers misbehaving every way a production receiver does, against one running service with short timeouts. Each
 * test has receivers and an account of its own, and ends with the books: every produced event delivered or
 * dead-lettered, one webhook-id per event, and the figures printed (lines starting with LEDGER).
 */
class FaultsIT {
  private static final Duration TIMEOUT = Duration.ofMillis(1000);
  /** How long every endpoint answers 503 in the thundering-retry test (the 30 s, scaled for CI). */
  private static final Duration OUTAGE = Duration.ofSeconds(Long.getLong("faults.outageSeconds", 4));
  private static Vertx vertx;
  private static RunningService service;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    service = RunningService.start(Map.of(
        "DELIVERY_RESPONSE_TIMEOUT_MS", Long.toString(TIMEOUT.toMillis()),
        // a cold JVM on a busy 2-core machine can take over a second for a burst of TLS handshakes
        "DELIVERY_CONNECT_TIMEOUT_MS", "3000",
        "RETRY_BASE_DELAY_MS", "200",
        "RETRY_MAX_DELAY_MS", "5000",
        "MAX_EVENT_BYTES", "4096"));
  }

  @AfterAll
  static void stop() throws Exception {
    service.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aReceiverThatIsDownThenBackGetsEverything() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String account = install("https://localhost:" + port + "/down", 5);
    List<String> events = publish(account, 10);
    await().atMost(Duration.ofSeconds(10)).until(() -> service.scrape().contains("status_class=\"connect-failed\""));

    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost(), port)) {
      service.awaitAllCommitted();
      Ledger.Figures figures = books("receiver down then back", events, receiver.requests());
      assertThat(figures.delivered()).isEqualTo(10);
    }
  }

  @Test
  void answersSlowerThanTheTimeoutAreRetried() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(Response.delayed(TIMEOUT.multipliedBy(3), 200), Response.delayed(TIMEOUT.multipliedBy(3), 200),
          Response.delayed(TIMEOUT.multipliedBy(3), 200));
      List<String> events = publish(install(receiver.url("/slow"), 3), 3);
      service.awaitAllCommitted();
      Ledger.Figures figures = books("slow past the timeout", events, receiver.requests());
      assertThat(figures.delivered()).isEqualTo(3);
      assertThat(figures.attempts()).isEqualTo(6);
    }
  }

  @Test
  void serverErrorsAreRetriedUntilTheyPass() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(500, 502, 503, 504);
      List<String> events = publish(install(receiver.url("/5xx"), 2), 4);
      service.awaitAllCommitted();
      Ledger.Figures figures = books("5xx", events, receiver.requests());
      assertThat(figures.delivered()).isEqualTo(4);
      assertThat(figures.attempts()).isEqualTo(8);
    }
  }

  @Test
  void retryAfterInSecondsOrAsAnHttpDateIsHonoured() {
    try (TestReceiver seconds = TestReceiver.start(vertx, TestCertificates.shared().localhost());
        TestReceiver date = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      seconds.enqueue(Response.retryAfter(429, "2"));
      String inThreeSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(
          ZonedDateTime.ofInstant(Instant.now().plusSeconds(3), ZoneOffset.UTC));
      date.enqueue(Response.retryAfter(503, inThreeSeconds));
      List<String> bySeconds = publish(install(seconds.url("/429"), 1), 1);
      List<String> byDate = publish(install(date.url("/503"), 1), 1);
      service.awaitAllCommitted();

      books("429 Retry-After seconds", bySeconds, seconds.requests());
      books("503 Retry-After HTTP-date", byDate, date.requests());
      assertThat(gap(seconds.requests())).isGreaterThanOrEqualTo(Duration.ofMillis(2000));
      assertThat(gap(date.requests())).as("the date has whole seconds").isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    }
  }

  @Test
  void goneAndRedirectsAreFailedAttemptsAndRedirectsAreNotFollowed() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(410, 410);
      List<String> gone = publish(install(receiver.url("/gone"), 1), 1);
      service.awaitAllCommitted();
      receiver.enqueue(Response.redirect(receiver.url("/elsewhere")), Response.redirect(receiver.url("/elsewhere")));
      List<String> moved = publish(install(receiver.url("/moved"), 1), 1);
      service.awaitAllCommitted();

      Ledger.Figures goneFigures = books("410", gone, receiver.requests());
      Ledger.Figures movedFigures = books("3xx", moved, receiver.requests());
      assertThat(goneFigures.deadLettered()).isEqualTo(1);
      assertThat(movedFigures.deadLettered()).isEqualTo(1);
      assertThat(lastStatusOf(gone.get(0))).isEqualTo("410");
      assertThat(lastStatusOf(moved.get(0))).isEqualTo("302");
      assertThat(receiver.requests()).extracting(ReceivedRequest::uri).doesNotContain("/elsewhere");
    }
  }

  @Test
  void aConnectionResetBeforeTheAnswerIsRetried() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(Response.reset(), Response.reset());
      List<String> events = publish(install(receiver.url("/reset"), 2), 2);
      service.awaitAllCommitted();
      Ledger.Figures figures = books("reset mid-response", events, receiver.requests());
      assertThat(figures.delivered()).isEqualTo(2);
      assertThat(figures.attempts()).isEqualTo(4);
    }
  }

  @Test
  void garbageInsteadOfHttpIsAFailedAttemptAndEndsAsADeadLetter() throws Exception {
    NetServer garbage = vertx.createNetServer(new NetServerOptions()
        .setSsl(true).setKeyCertOptions(TestCertificates.shared().localhost().keyCertOptions()).setHost("127.0.0.1"));
    garbage.connectHandler(socket -> socket.handler(request -> socket.end(Buffer.buffer("\0\0garbage\r\n\r\n\u00ff"))));
    garbage.listen(0).await(5, TimeUnit.SECONDS);
    try {
      List<String> events = publish(install("https://localhost:" + garbage.actualPort() + "/garbage", 1), 2);
      service.awaitAllCommitted();
      Ledger.Figures figures = books("garbage instead of HTTP", events, List.of());
      assertThat(figures.deadLettered()).isEqualTo(2);
    } finally {
      garbage.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aReceiverDribblingItsAnswerIsCutOffAtTheTimeout() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.enqueue(Response.dribble(503, Duration.ofMillis(50)));
      List<String> events = publish(install(receiver.url("/dribble"), 1), 1);
      service.awaitAllCommitted();
      books("slow-loris dribble", events, receiver.requests());
      assertThat(gap(receiver.requests())).as("cut at the timeout, then the retry delay")
          .isGreaterThanOrEqualTo(TIMEOUT).isLessThan(TIMEOUT.plusMillis(1500));
    }
  }

  /**
   * Every endpoint answers 503 for {@link #OUTAGE}, then recovers. Apps with 0 or 1 retries run out during the outage
   * and are dead-lettered; apps with 5 retries (first retry after 0.2 s, the fifth after ~6 s) are all delivered.
   * The attempt rate stays bounded: backoff and jitter, no storm.
   */
  @Test
  void aThunderingRetryStaysBoundedAndEndsAsMaxRetriesSays() {
    List<TestReceiver> receivers = new ArrayList<>();
    try {
      Map<Integer, List<String>> eventsByRetries = new TreeMap<>();
      for (int maxRetries : new int[] {0, 1, 5}) {
        for (int app = 0; app < 3; app++) {
          TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
          receiver.answerByDefault(Response.status(503));
          receivers.add(receiver);
          String account = install(receiver.url("/herd"), maxRetries);
          eventsByRetries.computeIfAbsent(maxRetries, k -> new ArrayList<>()).addAll(publish(account, 40));
        }
      }
      Instant outageStarted = Instant.now();
      await().atMost(OUTAGE.plusSeconds(5)).until(() -> Instant.now().isAfter(outageStarted.plus(OUTAGE)));
      receivers.forEach(r -> r.answerByDefault(Response.ok()));
      service.awaitAllCommitted();

      List<ReceivedRequest> all = receivers.stream().flatMap(r -> r.requests().stream()).toList();
      Ledger.Figures zero = books("thundering retry, max_retries 0", eventsByRetries.get(0), all);
      Ledger.Figures one = books("thundering retry, max_retries 1", eventsByRetries.get(1), all);
      Ledger.Figures five = books("thundering retry, max_retries 5", eventsByRetries.get(5), all);
      // attempts that failed before a request arrived (a handshake cut off) are not seen by the receivers
      assertThat(zero.deadLettered()).isEqualTo(120);
      assertThat(zero.attempts()).isLessThanOrEqualTo(120);
      assertThat(one.deadLettered()).isEqualTo(120);
      assertThat(one.attempts()).isLessThanOrEqualTo(240);
      assertThat(five.delivered()).isEqualTo(120);
      assertThat(five.attempts()).isLessThanOrEqualTo(6 * 120);

      Map<Long, Integer> perSecond = new TreeMap<>();
      Instant first = all.stream().map(ReceivedRequest::arrivedAt).min(Instant::compareTo).orElseThrow();
      all.forEach(r -> perSecond.merge(Duration.between(first, r.arrivedAt()).toSeconds(), 1, Integer::sum));
      System.out.println("LEDGER thundering retry attempts per second: " + perSecond);
      int events = 360;
      assertThat(perSecond.values()).as("no second sees more than three attempts per event")
          .allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(3 * events));
      // and no delivery ever retried early: the gap before retry n is at least base * 2^(n-1)
      Map<String, List<Instant>> attemptsByEvent = new TreeMap<>();
      all.forEach(r -> attemptsByEvent.computeIfAbsent(Ledger.conversationOf(r.body().getBytes()), k -> new ArrayList<>())
          .add(r.arrivedAt()));
      for (String event : eventsByRetries.get(5)) {
        List<Instant> times = attemptsByEvent.get(event).stream().sorted().toList();
        for (int n = 1; n < times.size(); n++) {
          long backoff = 200L << (n - 1);
          assertThat(Duration.between(times.get(n - 1), times.get(n)).toMillis()).as("retry %d of %s", n, event)
              .isGreaterThanOrEqualTo(backoff - 100); // the first attempt's arrival includes a TLS handshake
        }
      }
    } finally {
      receivers.forEach(TestReceiver::close);
    }
  }

  /** 10,000 malformed records of every kind mixed with 1,000 good ones, on every partition. */
  @Test
  void aPoisonFloodIsDeadLetteredWithReasonsWhileEveryGoodRecordIsDelivered() {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      String account = install(receiver.url("/flood"), 0);
      String[] poison = {
          "not json", "{\"type\":\"ms.Other\",\"body\":{\"changes\":[{}]}}",
          "{\"type\":\"ms.MessagingEventNotification\",\"body\":{\"changes\":[]}}", "[1,2,3]",
          "{\"type\":\"ms.MessagingEventNotification\",\"body\":{\"changes\":[1]}}",
          "{\"x\":\"" + "y".repeat(5000) + "\"}", "{\"a\":1,\"a\":2}"};
      String[] reasons = {"invalid-json", "unknown-type", "no-changes", "invalid-json", "invalid-event", "too-large",
          "invalid-json"};
      Map<String, Integer> expected = new TreeMap<>();
      List<String> good = new ArrayList<>();
      String floodAccount = account;
      for (int i = 0; i < 10_000; i++) {
        int kind = i % (poison.length + 1);
        if (kind == poison.length) {
          service.publishAsync(null, "k" + i, Events.bytes(Events.content("x" + i, "no account")));
          expected.merge("missing-account", 1, Integer::sum);
        } else {
          service.publishAsync(floodAccount, "k" + i, Events.bytes(poison[kind]));
          expected.merge(reasons[kind], 1, Integer::sum);
        }
        if (i % 10 == 0) {
          String conversation = "good-" + UUID.randomUUID();
          good.add(conversation);
          service.publishAsync(floodAccount, conversation, Events.bytes(Events.content(conversation, "good")));
        }
      }
      service.awaitAllCommitted();

      List<ConsumerRecord<byte[], byte[]>> letters = service.deadLettersSoFar().stream()
          .filter(r -> RunningService.header(r, "source").startsWith(service.eventsTopic() + "/"))
          .filter(r -> RunningService.header(r, "client-id").isEmpty())
          .toList();
      Map<String, Integer> byReason = new TreeMap<>();
      letters.forEach(r -> byReason.merge(RunningService.header(r, "reason"), 1, Integer::sum));
      System.out.println("LEDGER poison flood dead letters by reason: " + byReason);
      assertThat(letters).allSatisfy(r -> assertThat(RunningService.header(r, "error")).isNotBlank());
      Ledger.Figures figures = books("poison flood, good records", good, receiver.requests());
      assertThat(figures.delivered()).isEqualTo(1000);
      assertThat(byReason).as("dead letters of this flood, from every test of this service")
          .containsAllEntriesOf(expected);
    }
  }

  private static Ledger.Figures books(String scenario, List<String> events, List<ReceivedRequest> requests) {
    return Ledger.check(scenario, events, requests, service.deadLettersSoFar(), TIMEOUT);
  }

  private static String lastStatusOf(String conversation) {
    return service.deadLettersSoFar().stream()
        .filter(r -> Ledger.conversationOf(r.value()).equals(conversation))
        .map(r -> RunningService.header(r, "last-status")).findFirst().orElseThrow();
  }

  private static Duration gap(List<ReceivedRequest> requests) {
    assertThat(requests).hasSizeGreaterThanOrEqualTo(2);
    return Duration.between(requests.get(0).arrivedAt(), requests.get(1).arrivedAt());
  }

  private static String install(String endpoint, int maxRetries) {
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    service.install(account, """
        {"client_name": "faults-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": %d}}}}
        """.formatted(endpoint, maxRetries));
    return account;
  }

  private static List<String> publish(String account, int count) {
    List<String> conversations = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String conversation = UUID.randomUUID().toString();
      conversations.add(conversation);
      service.publishAsync(account, conversation, Events.bytes(Events.content(conversation, "fault " + i)));
    }
    return conversations;
  }
}
