package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.Hmac;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A rotated client secret, end to end: during the grace period a receiver that verifies with either secret accepts
 * the delivery; after it only the new one signs.
 */
class SecretRotationIT {
  private static final int GRACE_SECONDS = 3;
  private static Vertx vertx;
  private static TestReceiver receiver;
  private static RunningService service;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    service = RunningService.start(Map.of("SECRET_ROTATION_GRACE_S", Integer.toString(GRACE_SECONDS)));
  }

  @AfterAll
  static void stop() throws Exception {
    service.close();
    receiver.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void bothSecretsSignDuringTheGraceAndOnlyTheNewOneAfter() {
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    String path = "/" + account + "/chat";
    JsonNode app = service.install(account, """
        {"client_name": "rotation-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ChatStateEvent": {"endpoint": "%s"}}}}
        """.formatted(receiver.url(path)));
    String id = app.get("client_id").textValue();
    String old = app.get("client_secret").textValue();

    JsonNode rotated = service.api().rotateSecret(account, id);
    Instant rotatedAt = Instant.now();
    String fresh = rotated.get("client_secret").textValue();
    assertThat(fresh).isNotEqualTo(old);

    ReceivedRequest during = deliver(account, path, 1);
    assertThat(verifiers(during, old, fresh)).containsExactlyInAnyOrder(fresh, old);
    assertThat(during.header("x-liveperson-signature")).isEqualTo(liveperson(fresh, during));
    assertThat(Instant.now()).as("delivered within the grace period").isBefore(rotatedAt.plusSeconds(GRACE_SECONDS));

    // The old secret signs while expires_at > now (whole seconds); the view drops it within a poll after that.
    await().atMost(Duration.ofSeconds(GRACE_SECONDS + 5))
        .until(() -> Instant.now().getEpochSecond() > rotatedAt.getEpochSecond() + GRACE_SECONDS + 1);
    ReceivedRequest after = deliver(account, path, 2);
    assertThat(verifiers(after, old, fresh)).containsExactly(fresh);
    assertThat(after.header("webhook-signature").split(" ")).hasSize(1);
    assertThat(after.header("x-liveperson-signature")).isEqualTo(liveperson(fresh, after));
  }

  /** Publishes one event and returns the {@code n}th request the receiver got under {@code path}. */
  private static ReceivedRequest deliver(String account, String path, int n) {
    String conversation = UUID.randomUUID().toString();
    service.publish(account, conversation, Events.bytes(Events.chatState(conversation)));
    await().atMost(Duration.ofSeconds(30)).until(() -> requestsTo(path).size() >= n);
    return requestsTo(path).get(n - 1);
  }

  /** Which of the candidate secrets a Standard Webhooks receiver would accept this request with. */
  private static List<String> verifiers(ReceivedRequest request, String... secrets) {
    List<String> candidates = List.of(secrets);
    List<String> signatures = Arrays.asList(request.header("webhook-signature").split(" "));
    byte[] body = request.body().getBytes();
    byte[] prefix = (request.header("webhook-id") + "." + request.header("webhook-timestamp") + ".")
        .getBytes(StandardCharsets.UTF_8);
    byte[] signed = new byte[prefix.length + body.length];
    System.arraycopy(prefix, 0, signed, 0, prefix.length);
    System.arraycopy(body, 0, signed, prefix.length, body.length);
    return signatures.stream()
        .map(signature -> candidates.stream()
            .filter(secret -> signature.equals("v1," + Hmac.base64("HmacSHA256", secret, signed)))
            .findFirst().orElse("<unknown " + signature + ">"))
        .toList();
  }

  private static String liveperson(String secret, ReceivedRequest request) {
    return "sha1=" + Hmac.base64("HmacSHA1", secret, request.body().getBytes());
  }

  private static List<ReceivedRequest> requestsTo(String path) {
    return receiver.requests().stream().filter(r -> r.uri().equals(path)).toList();
  }
}
