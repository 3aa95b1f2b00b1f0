package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.Hmac;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Installations live in Kafka, not in an instance: an app installed through one instance is delivered to by another
 * that follows the topic live, and a restarted instance reads every installation back, secrets included.
 */
class InstallationsAcrossInstancesIT {
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

  @Test
  void anAppInstalledThroughOneInstanceIsDeliveredByTheOtherAndSurvivesARestart() {
    Map<String, String> env = RunningService.environment(TestKafka.uniqueName("instances"));
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    String path = "/" + account + "/content";
    String manifest = """
        {"client_name": "instances-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s"}}}}
        """.formatted(receiver.url(path));

    JsonNode app;
    RunningService second;
    try (RunningService first = RunningService.startWith(env)) {
      second = RunningService.startWith(env);
      app = first.install(account, manifest);
      String id = app.get("client_id").textValue();
      await().atMost(Duration.ofSeconds(10)).until(() -> second.api().read(account, id) != null);
    }
    // Only the second instance is left: it owns every partition, so it is the one that delivers.
    String secret = app.get("client_secret").textValue();
    try (RunningService delivering = second) {
      publish(delivering, account, "from the second instance");
      await().atMost(Duration.ofSeconds(30)).until(() -> requestsTo(path).size() == 1);
      assertSignedWith(requestsTo(path).get(0), secret);
    }

    try (RunningService restarted = RunningService.startWith(env)) {
      JsonNode read = restarted.api().read(account, app.get("client_id").textValue());
      assertThat(read).isNotNull();
      assertThat(read.get("client_secret").textValue()).isEqualTo(secret);
      assertThat(restarted.api().list(account)).hasSize(1);
      publish(restarted, account, "after the restart");
      await().atMost(Duration.ofSeconds(30)).until(() -> requestsTo(path).size() == 2);
      assertSignedWith(requestsTo(path).get(1), secret);
    }
  }

  private static void publish(RunningService service, String account, String message) {
    String conversation = UUID.randomUUID().toString();
    service.publish(account, conversation, Events.bytes(Events.content(conversation, message)));
  }

  private static void assertSignedWith(ReceivedRequest request, String secret) {
    assertThat(request.header("x-liveperson-signature"))
        .isEqualTo("sha1=" + Hmac.base64("HmacSHA1", secret, request.body().getBytes()));
  }

  private static List<ReceivedRequest> requestsTo(String path) {
    return receiver.requests().stream().filter(r -> r.uri().equals(path)).toList();
  }
}
