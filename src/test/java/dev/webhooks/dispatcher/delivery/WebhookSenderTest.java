package dev.webhooks.dispatcher.delivery;

import static dev.webhooks.dispatcher.delivery.Deliveries.BODY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Hmac;
import dev.webhooks.dispatcher.install.Header;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestClock;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WebhookSenderTest {
  private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
  private static Vertx vertx;
  private TestReceiver receiver;
  private WebhookSender sender;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void startReceiver() {
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    sender = new WebhookSender(vertx, Deliveries.config(), HostResolver.system(vertx), Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @AfterEach
  void stopReceiver() throws Exception {
    receiver.close();
    sender.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void postsTheExactBodyWithEveryHeaderSigned() throws Exception {
    Delivery delivery =
        Deliveries.to(receiver.url("/hooks/content?tenant=a&x=%20y"), 0, new Header("X-Api-Key", "k-1"), new Header("x-trace", "t t"));

    DeliveryOutcome outcome = send(delivery);

    assertThat(outcome).isEqualTo(new DeliveryOutcome.Delivered(200));
    ReceivedRequest request = receiver.requests().get(0);
    byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
    long timestamp = NOW.getEpochSecond();
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.uri()).isEqualTo("/hooks/content?tenant=a&x=%20y");
    assertThat(request.body().getBytes()).isEqualTo(body);
    assertThat(request.header("Host")).isEqualTo("localhost:" + receiver.port());
    assertThat(request.header("Content-Type")).isEqualTo("application/json");
    assertThat(request.header("x-liveperson-account-id")).isEqualTo(Deliveries.ACCOUNT);
    assertThat(request.header("x-liveperson-client-id")).isEqualTo(Deliveries.CLIENT_ID);
    assertThat(request.header("x-liveperson-signature")).isEqualTo("sha1=" + Hmac.base64("HmacSHA1", Deliveries.SECRET, body));
    assertThat(request.header("webhook-id")).isEqualTo(delivery.webhookId()).doesNotContain(".");
    assertThat(request.header("webhook-timestamp")).isEqualTo(Long.toString(timestamp));
    byte[] signed = (delivery.webhookId() + "." + timestamp + "." + BODY).getBytes(StandardCharsets.UTF_8);
    assertThat(request.header("webhook-signature"))
        .isEqualTo("v1," + Hmac.base64("HmacSHA256", Deliveries.SECRET, signed) + " v1," + Hmac.base64("HmacSHA256", Deliveries.OLD_SECRET, signed));
    assertThat(request.header("X-Api-Key")).isEqualTo("k-1");
    assertThat(request.header("x-trace")).isEqualTo("t t");
  }

  @Test
  void aHeaderThatCannotBeSentFailsTheAttemptAndFreesTheConnection() throws Exception {
    // one connection: had the failed attempt kept it, the next one would never get it
    WebhookSender oneConnection = new WebhookSender(vertx, Deliveries.config("DELIVERY_MAX_CONNECTIONS_PER_ENDPOINT", "1"));
    try {
      Delivery injecting = Deliveries.to(receiver.url("/a"), 0, new Header("x-bad", "v\r\nx-injected: 1"));
      DeliveryOutcome outcome = onEventLoop(() -> oneConnection.send(injecting)).await(10, TimeUnit.SECONDS);
      Delivery next = Deliveries.to(receiver.url("/a"), 0);

      assertThat(outcome).isInstanceOf(DeliveryOutcome.RetryableFailure.class);
      assertThat(onEventLoop(() -> oneConnection.send(next)).await(10, TimeUnit.SECONDS))
          .isEqualTo(new DeliveryOutcome.Delivered(200));
      assertThat(receiver.requests()).singleElement().satisfies(r -> assertThat(r.header("x-injected")).isNull());
    } finally {
      oneConnection.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void only200And201Deliver() throws Exception {
    receiver.enqueue(201, 204, 500, 400);
    Delivery delivery = Deliveries.to(receiver.url("/"), 0);
    assertThat(send(delivery)).isEqualTo(new DeliveryOutcome.Delivered(201));
    assertThat(send(delivery)).isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class, f -> assertThat(f.status()).hasValue(204));
    assertThat(send(delivery)).isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class, f -> assertThat(f.reason()).isEqualTo("http-status"));
    assertThat(send(delivery).statusClass()).isEqualTo("4xx");
  }

  @Test
  void theSameBodyIsSentWholeAtEveryAttempt() throws Exception {
    receiver.enqueue(500, 500, 200);
    Delivery delivery = Deliveries.to(receiver.url("/"), 2); // its body wraps the record's bytes: never released

    assertThat(send(delivery)).isInstanceOf(DeliveryOutcome.RetryableFailure.class);
    assertThat(send(delivery)).isInstanceOf(DeliveryOutcome.RetryableFailure.class);
    assertThat(send(delivery)).isEqualTo(new DeliveryOutcome.Delivered(200));
    assertThat(receiver.requests()).hasSize(3)
        .allSatisfy(r -> assertThat(r.body().getBytes()).isEqualTo(BODY.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void keepsTheConnectionAliveBetweenDeliveries() throws Exception {
    receiver.enqueue(Response.status(500).withBody("x".repeat(10_000)), Response.ok());
    send(Deliveries.to(receiver.url("/a"), 0));
    send(Deliveries.to(receiver.url("/b"), 0));
    List<ReceivedRequest> requests = receiver.requests();
    assertThat(requests).hasSize(2);
    assertThat(requests.get(1).remoteAddress()).as("same client port").isEqualTo(requests.get(0).remoteAddress());
  }

  @Test
  void neverFollowsARedirect() throws Exception {
    TestReceiver elsewhere = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    try {
      receiver.enqueue(Response.redirect(elsewhere.url("/stolen")));
      DeliveryOutcome outcome = send(Deliveries.to(receiver.url("/"), 0));
      assertThat(outcome).isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class, f -> {
        assertThat(f.status()).hasValue(302);
        assertThat(f.reason()).isEqualTo("http-status");
      });
      assertThat(receiver.requests()).hasSize(1);
      assertThat(elsewhere.requests()).isEmpty();
    } finally {
      elsewhere.close();
    }
  }

  @Test
  void aSlowReceiverTimesOutAfterTheDefaultFiveSeconds() throws Exception {
    receiver.enqueue(Response.delayed(Duration.ofSeconds(6), 200));
    long start = System.nanoTime();
    DeliveryOutcome outcome = send(Deliveries.to(receiver.url("/"), 0));
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(outcome).isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class, f -> {
      assertThat(f.reason()).isEqualTo("timeout");
      assertThat(f.status()).isEmpty();
    });
    assertThat(took).isBetween(Duration.ofMillis(4900), Duration.ofMillis(5900));
  }

  @Test
  void aReceiverDribblingItsBodyCannotHoldPastTheDeadline() throws Exception {
    WebhookSender quick = new WebhookSender(vertx, Deliveries.config("DELIVERY_RESPONSE_TIMEOUT_MS", "500"));
    try {
      receiver.enqueue(Response.dribble(500, Duration.ofMillis(50)));
      long start = System.nanoTime();
      DeliveryOutcome outcome = quick.send(Deliveries.to(receiver.url("/"), 0)).await(5, TimeUnit.SECONDS);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
      assertThat(outcome.status()).hasValue(500);
    } finally {
      quick.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aServerStallingTheTlsHandshakeIsCutOffAtTheConnectTimeout() throws Exception {
    NetServer silent = vertx.createNetServer().connectHandler(socket -> {}); // accepts TCP, never speaks TLS
    silent.listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
    WebhookSender quick = new WebhookSender(vertx, Deliveries.config("DELIVERY_CONNECT_TIMEOUT_MS", "300"));
    try {
      long start = System.nanoTime();
      DeliveryOutcome outcome =
          quick.send(Deliveries.to("https://localhost:" + silent.actualPort() + "/", 0)).await(5, TimeUnit.SECONDS);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2000));
      assertThat(outcome).isInstanceOf(DeliveryOutcome.RetryableFailure.class);
      assertThat(((DeliveryOutcome.RetryableFailure) outcome).reason()).as(outcome.toString()).isEqualTo("connect-timeout");
      assertThat(((DeliveryOutcome.RetryableFailure) outcome).error()).as("the dead letter says what happened")
          .contains("handshake timed out");
    } finally {
      quick.close().await(5, TimeUnit.SECONDS);
      silent.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBurstQueuedBehindABusyEndpointIsSentWhenItsTurnComesNotFailed() throws Exception {
    // One connection, 300 ms connect timeout, 100 ms per answer: the last of ten waits ~1 s for the connection.
    WebhookSender oneConnection = new WebhookSender(vertx, Deliveries.config(
        "DELIVERY_MAX_CONNECTIONS_PER_ENDPOINT", "1", "DELIVERY_CONNECT_TIMEOUT_MS", "300"));
    try {
      for (int i = 0; i < 10; i++) {
        receiver.enqueue(Response.delayed(Duration.ofMillis(100), 200));
      }
      Delivery delivery = Deliveries.to(receiver.url("/burst"), 0);
      List<Future<DeliveryOutcome>> outcomes = new java.util.ArrayList<>();
      Promise<Void> sent = Promise.promise();
      vertx.runOnContext(v -> {
        for (int i = 0; i < 10; i++) {
          outcomes.add(oneConnection.send(delivery));
        }
        sent.complete();
      });
      sent.future().await(5, TimeUnit.SECONDS);
      Future.all(outcomes).await(10, TimeUnit.SECONDS);

      assertThat(outcomes).extracting(Future::result).containsOnly(new DeliveryOutcome.Delivered(200));
      assertThat(receiver.requests()).hasSize(10).extracting(ReceivedRequest::remoteAddress).containsOnly(
          receiver.requests().get(0).remoteAddress());
    } finally {
      oneConnection.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theTimestampIsTakenWhenTheConnectionIsThereNotWhenTheAttemptQueuedForIt() throws Exception {
    TestClock clock = new TestClock(NOW);
    WebhookSender oneConnection =
        new WebhookSender(vertx, Deliveries.config("DELIVERY_MAX_CONNECTIONS_PER_ENDPOINT", "1"), HostResolver.system(vertx), clock);
    try {
      receiver.enqueue(Response.delayed(Duration.ofMillis(500), 200), Response.ok());
      Delivery delivery = Deliveries.to(receiver.url("/"), 0);
      Future<DeliveryOutcome> first = onEventLoop(() -> oneConnection.send(delivery));
      Future<DeliveryOutcome> queued = onEventLoop(() -> oneConnection.send(delivery));
      await().atMost(Duration.ofSeconds(5)).until(() -> receiver.requests().size() == 1);
      clock.advance(Duration.ofMinutes(1)); // the second attempt has waited a minute for the one connection

      assertThat(first.await(10, TimeUnit.SECONDS)).isEqualTo(new DeliveryOutcome.Delivered(200));
      assertThat(queued.await(10, TimeUnit.SECONDS)).isEqualTo(new DeliveryOutcome.Delivered(200));
      long later = NOW.plus(Duration.ofMinutes(1)).getEpochSecond();
      ReceivedRequest second = receiver.requests().get(1);
      assertThat(second.header("webhook-timestamp")).isEqualTo(Long.toString(later));
      byte[] signed = (delivery.webhookId() + "." + later + "." + BODY).getBytes(StandardCharsets.UTF_8);
      assertThat(second.header("webhook-signature"))
          .startsWith("v1," + Hmac.base64("HmacSHA256", Deliveries.SECRET, signed) + " ");
    } finally {
      oneConnection.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void readsRetryAfterAsSecondsOrAnHttpDate() throws Exception {
    String inTwoMinutes = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.ofInstant(NOW.plusSeconds(120), ZoneOffset.UTC));
    receiver.enqueue(Response.retryAfter(429, "7"), Response.retryAfter(503, inTwoMinutes), Response.retryAfter(500, "9"));
    Delivery delivery = Deliveries.to(receiver.url("/"), 0);
    assertThat(retryAfterOf(send(delivery))).isEqualTo(Duration.ofSeconds(7));
    assertThat(retryAfterOf(send(delivery))).isEqualTo(Duration.ofSeconds(120));
    assertThat(((DeliveryOutcome.RetryableFailure) send(delivery)).retryAfter()).as("only on 429 and 503").isEmpty();
  }

  @Test
  void refusesABlockedAddressWithoutSendingAnything() throws Exception {
    WebhookSender guarded = new WebhookSender(vertx, Deliveries.config("DELIVERY_ALLOW_PRIVATE_NETWORKS", "false"));
    try {
      DeliveryOutcome outcome = guarded.send(Deliveries.to(receiver.url("/"), 3)).await(5, TimeUnit.SECONDS);
      assertThat(outcome).isInstanceOfSatisfying(DeliveryOutcome.PermanentFailure.class, f -> {
        assertThat(f.reason()).isEqualTo("blocked-address");
        assertThat(f.error()).contains("127.0.0.1").contains("loopback");
      });
      assertThat(receiver.requests()).isEmpty();
    } finally {
      guarded.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void checksTheAddressAtEveryAttemptSoARebindToAPrivateAddressIsRefused() throws Exception {
    // installed while it resolved to a public address; now the name points at this machine
    WebhookSender guarded =
        new WebhookSender(
            vertx, Deliveries.config("DELIVERY_ALLOW_PRIVATE_NETWORKS", "false"), fake("rebind.test", "127.0.0.1"),
            Clock.systemUTC());
    try {
      DeliveryOutcome outcome =
          guarded.send(Deliveries.to("https://rebind.test:" + receiver.port() + "/", 0)).await(5, TimeUnit.SECONDS);
      assertThat(outcome).isInstanceOfSatisfying(DeliveryOutcome.PermanentFailure.class, f -> {
        assertThat(f.reason()).isEqualTo("blocked-address");
        assertThat(f.error()).contains("rebind.test").contains("127.0.0.1");
      });
      assertThat(receiver.requests()).isEmpty();
    } finally {
      guarded.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void connectsToTheCheckedAddressWhileTlsAndHostUseTheEndpointName() throws Exception {
    // receiver.test exists only in this resolver; the certificate names it, not the address
    TestReceiver named = TestReceiver.start(vertx, TestCertificates.shared().leaf("receiver.test"));
    HostResolver fakeDns = fake("receiver.test", "127.0.0.1");
    WebhookSender pinned = new WebhookSender(vertx, Deliveries.config(), fakeDns, Clock.systemUTC());
    try {
      DeliveryOutcome outcome = pinned.send(Deliveries.to("https://receiver.test:" + named.port() + "/p", 0)).await(5, TimeUnit.SECONDS);
      assertThat(outcome).isEqualTo(new DeliveryOutcome.Delivered(200));
      assertThat(named.requests().get(0).header("Host")).isEqualTo("receiver.test:" + named.port());
      // the same address under a name the certificate does not carry fails the host-name check
      DeliveryOutcome misnamed = pinned.send(Deliveries.to("https://receiver.test:" + receiver.port() + "/p", 0)).await(5, TimeUnit.SECONDS);
      assertThat(misnamed).isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class, f -> assertThat(f.reason()).isEqualTo("tls"));
      assertThat(receiver.requests()).isEmpty();
    } finally {
      named.close();
      pinned.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aNameIsFollowedToANewAddressButNotThroughTheTurnsOfARoundRobin() throws Exception {
    Assumptions.assumeTrue(TestReceiver.canListenOn("127.0.0.2"), "127.0.0.2 is not a local address here");
    TestCertificates.Leaf leaf = TestCertificates.shared().leaf("moving.test");
    TestReceiver first = TestReceiver.start(vertx, leaf, "127.0.0.1", 0);
    TestReceiver second = TestReceiver.start(vertx, leaf, "127.0.0.2", first.port());
    AtomicReference<List<String>> answers = new AtomicReference<>(List.of("127.0.0.1", "127.0.0.2"));
    HostResolver dns = host -> Future.succeededFuture(answers.get().stream().map(ip -> named(host, ip)).toList());
    WebhookSender sender = new WebhookSender(vertx, Deliveries.config(), dns, Clock.systemUTC());
    Delivery delivery = Deliveries.to("https://moving.test:" + first.port() + "/hook", 0);
    try {
      assertThat(sender.send(delivery).await(5, TimeUnit.SECONDS)).isEqualTo(new DeliveryOutcome.Delivered(200));
      answers.set(List.of("127.0.0.2", "127.0.0.1")); // the next turn of a round-robin: the address in use stays
      assertThat(sender.send(delivery).await(5, TimeUnit.SECONDS)).isEqualTo(new DeliveryOutcome.Delivered(200));
      assertThat(first.requests()).hasSize(2);

      answers.set(List.of("127.0.0.2")); // moved, while a connection to the old address is still pooled
      assertThat(sender.send(delivery).await(5, TimeUnit.SECONDS)).isEqualTo(new DeliveryOutcome.Delivered(200));
      assertThat(first.requests()).hasSize(2);
      assertThat(second.requests()).singleElement()
          .satisfies(r -> assertThat(r.header("Host")).isEqualTo("moving.test:" + first.port()));
    } finally {
      first.close();
      second.close();
      sender.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void anIpv6LiteralEndpointGetsItsHostHeaderInBrackets() throws Exception {
    Assumptions.assumeTrue(TestReceiver.canListenOn("::1"), "no IPv6 loopback address (::1) to bind on this machine");
    // the certificate names the IP address ::1; the address is resolved, checked and verified without brackets
    TestReceiver v6 = TestReceiver.start(vertx, TestCertificates.shared().localhost(), "::1", 0);
    try {
      DeliveryOutcome outcome = send(Deliveries.to("https://[::1]:" + v6.port() + "/v6", 0));

      assertThat(outcome).isEqualTo(new DeliveryOutcome.Delivered(200));
      assertThat(v6.requests()).singleElement()
          .satisfies(r -> assertThat(r.header("Host")).isEqualTo("[::1]:" + v6.port()));
    } finally {
      v6.close();
    }
  }

  /** Both TLS engines (BoringSSL where it loads, the default; the JDK's) check certificates and host names alike. */
  @ParameterizedTest(name = "DELIVERY_NATIVE_TLS={0}")
  @ValueSource(booleans = {true, false})
  void refusesCertificatesItCannotTrust(boolean nativeTls) throws Exception {
    WebhookSender engine = new WebhookSender(vertx, Deliveries.config("DELIVERY_NATIVE_TLS", String.valueOf(nativeTls)));
    TestReceiver trusted = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    try {
      assertThat(onEventLoop(() -> engine.send(Deliveries.to(trusted.url("/"), 0))).await(10, TimeUnit.SECONDS))
          .as("a trusted receiver, to show the engine works at all")
          .isInstanceOf(DeliveryOutcome.Delivered.class);
    } finally {
      trusted.close();
    }
    TestCertificates.Leaf unknownCa = TestCertificates.create().localhost();
    List<TestCertificates.Leaf> bad =
        List.of(
            unknownCa,
            TestCertificates.shared().expiredLeaf("localhost", "127.0.0.1"),
            TestCertificates.shared().wrongHostLeaf());
    for (TestCertificates.Leaf leaf : bad) {
      TestReceiver untrusted = TestReceiver.start(vertx, leaf);
      try {
        DeliveryOutcome outcome =
            onEventLoop(() -> engine.send(Deliveries.to(untrusted.url("/"), 0))).await(10, TimeUnit.SECONDS);
        assertThat(outcome).as(leaf.certificate().getSubjectX500Principal().getName())
            .isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class, f -> {
              assertThat(f.reason()).isEqualTo("tls");
              // only a CA the operator may have to add is worth the hint; the other two are the receiver's to fix
              if (leaf == unknownCa) {
                assertThat(f.error()).contains("not signed by a CA this dispatcher trusts")
                    .contains("DELIVERY_TRUSTED_CA_PEM");
              } else {
                assertThat(f.error()).doesNotContain("DELIVERY_TRUSTED_CA_PEM");
              }
            });
        assertThat(untrusted.requests()).isEmpty();
      } finally {
        untrusted.close();
      }
    }
    engine.close().await(5, TimeUnit.SECONDS);
  }

  @Test
  void classifiesRefusedConnectionsAndResets() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    assertThat(send(Deliveries.to("https://localhost:" + closedPort + "/", 0)))
        .isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class, f -> assertThat(f.reason()).isEqualTo("connect-failed"));
    receiver.enqueue(Response.reset());
    assertThat(send(Deliveries.to(receiver.url("/"), 0)))
        .isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class, f -> assertThat(f.reason()).isEqualTo("reset"));
    assertThat(send(Deliveries.to("https://does-not-exist.invalid/", 0)))
        .isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class, f -> assertThat(f.reason()).isEqualTo("dns"));
    assertThat(send(Deliveries.to("http://localhost/", 0)))
        .isInstanceOfSatisfying(DeliveryOutcome.PermanentFailure.class, f -> assertThat(f.reason()).isEqualTo("invalid-endpoint"));
  }

  @Test
  void aLookupPastItsDeadlineIsARetryableDnsFailureThatSaysSo() throws Exception {
    Promise<List<InetAddress>> deadNameServer = Promise.promise();
    HostResolver slowDns =
        new CachingHostResolver(vertx, HostResolver.DEFAULT_TTL, Duration.ofMillis(100), host -> deadNameServer.future());
    WebhookSender sending = new WebhookSender(vertx, Deliveries.config(), slowDns, Clock.fixed(NOW, ZoneOffset.UTC));
    try {
      DeliveryOutcome outcome =
          onEventLoop(() -> sending.send(Deliveries.to("https://hooks.example/", 0))).await(5, TimeUnit.SECONDS);

      assertThat(outcome).isEqualTo(new DeliveryOutcome.RetryableFailure(
          OptionalInt.empty(), "dns", "DNS lookup for hooks.example took longer than 100 ms", Optional.empty()));
    } finally {
      deadNameServer.tryFail("test over");
      sending.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Sends from an event-loop context, as the courier does. */
  private DeliveryOutcome send(Delivery delivery) throws Exception {
    return onEventLoop(() -> sender.send(delivery)).await(10, TimeUnit.SECONDS);
  }

  private static <T> Future<T> onEventLoop(Supplier<Future<T>> action) {
    Promise<T> result = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> action.get().onComplete(result));
    return result.future();
  }

  private static Duration retryAfterOf(DeliveryOutcome outcome) {
    return ((DeliveryOutcome.RetryableFailure) outcome).retryAfter().orElseThrow();
  }

  /** {@code ip} as an address looked up by {@code name}, carrying the name as a real lookup's address does. */
  private static InetAddress named(String name, String ip) {
    try {
      return InetAddress.getByAddress(name, InetAddress.getByName(ip).getAddress());
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Resolves {@code name}, and no other host, to {@code ip}. */
  static HostResolver fake(String name, String ip) {
    return host -> host.equals(name)
        ? Future.succeededFuture(List.of(named(name, ip)))
        : Future.failedFuture(new UnknownHostException(host));
  }


}
