package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sender against endpoints that try to reach inside, or misbehave below HTTP: every non-public address form, a
 * name that rebinds after install, every redirect status, garbage instead of HTTP, and the TLS versions it offers.
 */
class HostileEndpointTest {
  private static Vertx vertx;
  private static TestReceiver receiver;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** Every form the security issue lists; the receiver listens on 127.0.0.1, so a slip would reach it. */
  @ParameterizedTest(name = "https://{0}")
  @ValueSource(strings = {
      "127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "10.0.0.1",
      "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "[fd00::1]", "[fe80::1]", "0.0.0.0",
      "private.test", "localhost"})
  void everyNonPublicAddressFormIsRefusedAtInstallAndAtDeliveryWithoutARequest(String host) throws Exception {
    HostResolver dns = HostResolver.literalsFirst(answers("private.test", "10.9.8.7", "localhost", "127.0.0.1"));
    String endpoint = "https://" + host + ":" + receiver.port() + "/hook";
    int before = receiver.requests().size();

    Future<java.util.Optional<String>> atInstall = new AddressGuard(false, dns).refusal(endpoint);
    assertThat(atInstall.await(5, TimeUnit.SECONDS)).as("refused at install").isPresent();

    WebhookSender guarded = new WebhookSender(
        vertx, Deliveries.config("DELIVERY_ALLOW_PRIVATE_NETWORKS", "false"), dns, Clock.systemUTC());
    try {
      DeliveryOutcome outcome = onEventLoop(() -> guarded.send(Deliveries.to(endpoint, 3))).await(10, TimeUnit.SECONDS);
      assertThat(outcome).isInstanceOfSatisfying(DeliveryOutcome.PermanentFailure.class,
          f -> assertThat(f.reason()).isIn("blocked-address", "invalid-endpoint"));
      assertThat(receiver.requests()).hasSize(before);
    } finally {
      guarded.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aNameThatRebindsToAPrivateAddressAfterInstallIsRefusedAtDelivery() throws Exception {
    // first answer public (the install check), every later one private (the delivery)
    AtomicInteger lookups = new AtomicInteger();
    HostResolver rebinding = host -> Future.succeededFuture(
        List.of(address(lookups.getAndIncrement() == 0 ? "93.184.216.34" : "127.0.0.1")));
    String endpoint = "https://rebind.test:" + receiver.port() + "/hook";
    int before = receiver.requests().size();

    assertThat(new AddressGuard(false, rebinding).refusal(endpoint).await(5, TimeUnit.SECONDS)).isEmpty();
    WebhookSender guarded = new WebhookSender(
        vertx, Deliveries.config("DELIVERY_ALLOW_PRIVATE_NETWORKS", "false"), rebinding, Clock.systemUTC());
    try {
      DeliveryOutcome outcome = onEventLoop(() -> guarded.send(Deliveries.to(endpoint, 0))).await(10, TimeUnit.SECONDS);
      assertThat(outcome).isInstanceOfSatisfying(DeliveryOutcome.PermanentFailure.class, f -> {
        assertThat(f.reason()).isEqualTo("blocked-address");
        assertThat(f.error()).contains("127.0.0.1");
      });
      assertThat(lookups).as("one lookup per attempt: the checked answer is the one used").hasValue(2);
      assertThat(receiver.requests()).hasSize(before);
    } finally {
      guarded.close().await(5, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {301, 302, 303, 307, 308})
  void noRedirectIsFollowed(int status) throws Exception {
    receiver.enqueue(new Response(status, java.time.Duration.ZERO, java.util.Map.of("Location", receiver.url("/inside")),
        "", false, null));
    int before = receiver.requests().size();
    WebhookSender sender = new WebhookSender(vertx, Deliveries.config());
    try {
      DeliveryOutcome outcome = onEventLoop(() -> sender.send(Deliveries.to(receiver.url("/outside"), 0)))
          .await(10, TimeUnit.SECONDS);
      assertThat(outcome).isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class,
          f -> assertThat(f.status()).hasValue(status));
      assertThat(receiver.requests().subList(before, receiver.requests().size()))
          .extracting(TestReceiver.ReceivedRequest::uri).containsExactly("/outside");
    } finally {
      sender.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void garbageInsteadOfHttpFailsTheAttemptPromptly() throws Exception {
    NetServer garbage = vertx.createNetServer(new NetServerOptions()
        .setSsl(true).setKeyCertOptions(TestCertificates.shared().localhost().keyCertOptions()).setHost("127.0.0.1"));
    garbage.connectHandler(socket -> socket.handler(request -> socket.end(Buffer.buffer("SSH-2.0-OpenSSH\r\n\0\0\u00ff garbage\r\n\r\n"))));
    garbage.listen(0).await(5, TimeUnit.SECONDS);
    WebhookSender sender = new WebhookSender(vertx, Deliveries.config());
    try {
      long started = System.nanoTime();
      DeliveryOutcome outcome = onEventLoop(() -> sender.send(Deliveries.to("https://localhost:" + garbage.actualPort() + "/", 0)))
          .await(10, TimeUnit.SECONDS);
      assertThat(outcome).isInstanceOf(DeliveryOutcome.RetryableFailure.class);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("not held until the timeout").isLessThan(4000);
    } finally {
      sender.close().await(5, TimeUnit.SECONDS);
      garbage.close().await(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Reads the ClientHello the sender offers, with either TLS engine: TLS 1.2 and 1.3 only, so a server limited to older
   * versions fails.
   */
  @ParameterizedTest(name = "DELIVERY_NATIVE_TLS={0}")
  @ValueSource(booleans = {true, false})
  void offersOnlyTls12AndTls13(boolean nativeTls) throws Exception {
    CompletableFuture<Buffer> hello = new CompletableFuture<>();
    NetServer raw = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1"));
    raw.connectHandler(socket -> {
      Buffer received = Buffer.buffer();
      socket.handler(chunk -> {
        received.appendBuffer(chunk);
        if (received.length() >= 5 && received.length() >= 5 + received.getUnsignedShort(3)) {
          hello.complete(received);
          socket.end(Buffer.buffer(new byte[] {0x15, 0x03, 0x02, 0x00, 0x02, 0x02, 0x46})); // alert: protocol_version
        }
      });
    });
    raw.listen(0).await(5, TimeUnit.SECONDS);
    WebhookSender sender = new WebhookSender(vertx, Deliveries.config("DELIVERY_NATIVE_TLS", String.valueOf(nativeTls)));
    try {
      DeliveryOutcome outcome = onEventLoop(() -> sender.send(Deliveries.to("https://localhost:" + raw.actualPort() + "/", 0)))
          .await(10, TimeUnit.SECONDS);
      assertThat(outcome).isInstanceOfSatisfying(DeliveryOutcome.RetryableFailure.class,
          f -> assertThat(f.reason()).isEqualTo("tls"));
      assertThat(supportedVersions(hello.get(5, TimeUnit.SECONDS))).containsExactlyInAnyOrder(0x0303, 0x0304);
    } finally {
      sender.close().await(5, TimeUnit.SECONDS);
      raw.close().await(5, TimeUnit.SECONDS);
    }
  }

  /** The supported_versions extension (RFC 8446 4.2.1) of a ClientHello record. */
  private static Set<Integer> supportedVersions(Buffer record) {
    assertThat(record.getByte(0)).as("a handshake record").isEqualTo((byte) 0x16);
    assertThat(record.getByte(5)).as("a ClientHello").isEqualTo((byte) 0x01);
    int at = 5 + 4 + 2 + 32; // record header, handshake header, legacy_version, random
    at += 1 + record.getUnsignedByte(at); // session id
    at += 2 + record.getUnsignedShort(at); // cipher suites
    at += 1 + record.getUnsignedByte(at); // compression methods
    int end = at + 2 + record.getUnsignedShort(at);
    at += 2;
    while (at < end) {
      int type = record.getUnsignedShort(at);
      int length = record.getUnsignedShort(at + 2);
      if (type == 0x002b) {
        Set<Integer> versions = new HashSet<>();
        for (int v = at + 5; v < at + 4 + length; v += 2) {
          versions.add(record.getUnsignedShort(v));
        }
        return versions;
      }
      at += 4 + length;
    }
    throw new AssertionError("no supported_versions extension: the client would negotiate by legacy_version alone");
  }

  private static HostResolver answers(String... nameThenIp) {
    return host -> {
      for (int i = 0; i < nameThenIp.length; i += 2) {
        if (nameThenIp[i].equals(host)) {
          return Future.succeededFuture(List.of(address(nameThenIp[i + 1])));
        }
      }
      return Future.failedFuture(new UnknownHostException(host));
    };
  }

  private static InetAddress address(String ip) {
    try {
      return InetAddress.getByName(ip);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static <T> Future<T> onEventLoop(Supplier<Future<T>> action) {
    Promise<T> result = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> action.get().onComplete(result));
    return result.future();
  }
}
