package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.webhooks.dispatcher.install.SecretCipher;
import dev.webhooks.dispatcher.testing.CapturedLogs;
import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.Hmac;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.ServiceProcess;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A secrets key that cannot open the installations never turns into apps silently uninstalled and events lost as
 * unrouted: at start-up it is a configuration error (exit 2), and an installation written later by an instance with
 * another key holds its account's routing until it can be read, while other accounts are served and the instance stays
 * ready.
 */
class SecretsKeyIT {
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
  void anotherKeyStopsTheStartAndTheRightKeyFindsTheAppAndDeliversWhatWasPublishedMeanwhile() throws Exception {
    Map<String, String> env = RunningService.environment(TestKafka.uniqueName("secrets-key"));
    String account = account();
    JsonNode app;
    try (RunningService first = RunningService.startWith(env)) {
      app = first.install(account, manifest(account));
    }
    String id = app.get("client_id").textValue();

    Map<String, String> otherKey = new HashMap<>(env);
    otherKey.put("SECRETS_KEY", SecretCipher.generateKey());
    otherKey.put("MANAGEMENT_PORT", String.valueOf(ServiceProcess.freePort()));
    try (ServiceProcess wrong = ServiceProcess.launch("secrets-key-wrong", otherKey)) {
      assertThat(wrong.awaitExit(Duration.ofSeconds(90))).as("exit code of a configuration error").isEqualTo(2);
      assertThat(String.join("\n", wrong.output()))
          .contains("the secrets key in SECRETS_KEY cannot open the client secrets of 1 installation (" + id + ")")
          .contains("Restore the key the installations were written with");
    }

    try (RunningService right = RunningService.startWith(env)) {
      publish(right, account, "published after the failed start");
      assertThat(right.api().list(account)).extracting(a -> a.get("client_id").textValue()).containsExactly(id);
      await().atMost(Duration.ofSeconds(30)).until(() -> requestsTo(account).size() == 1);
      assertSignedWith(requestsTo(account).get(0), app.get("client_secret").textValue());
      right.awaitEventsCommitted();
    }
  }

  @Test
  void anAppWrittenByAnInstanceWithAnotherKeyHoldsItsAccountOnlyUntilItIsImportedAgain() throws Exception {
    Map<String, String> ours = RunningService.environment(TestKafka.uniqueName("secrets-ours"));
    Map<String, String> theirs = RunningService.environment(TestKafka.uniqueName("secrets-theirs"));
    theirs.put("INSTALLATIONS_TOPIC", ours.get("INSTALLATIONS_TOPIC")); // and a SECRETS_KEY of its own
    String account = account();
    String other = account();
    try (RunningService service = RunningService.startWith(ours);
        RunningService theirService = RunningService.startWith(theirs);
        CapturedLogs logs = CapturedLogs.capture()) {
      service.install(other, manifest(other));
      JsonNode app = theirService.install(account, manifest(account));
      String id = app.get("client_id").textValue();

      await().atMost(Duration.ofSeconds(10)).until(() -> service.scrape()
          .contains("webhook_installations{state=\"unreadable\"} 1"));
      assertThat(logs.text()).contains("Installation " + id).contains("with the secrets key in SECRETS_KEY")
          .contains("account " + account);
      publish(service, account, "published while the app cannot be read");
      publish(service, other, "published for another account meanwhile");
      await().atMost(Duration.ofSeconds(30)).until(() -> requestsTo(other).size() == 1);
      await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() ->
          requestsTo(account).isEmpty() && !service.scrape().contains("webhook_events_consumed_total{result=\"unrouted\"}")
              && service.get("/health/ready").statusCode() == 200);

      ObjectNode imported = ((ObjectNode) RunningService.parse(manifest(account)))
          .put("client_id", id).put("client_secret", app.get("client_secret").textValue());
      service.install(account, imported.toString());

      assertThat(service.scrape()).contains("webhook_installations{state=\"unreadable\"} 0");
      await().atMost(Duration.ofSeconds(30)).until(() -> requestsTo(account).size() == 1);
      assertSignedWith(requestsTo(account).get(0), app.get("client_secret").textValue());
      service.awaitEventsCommitted();
      assertThat(service.scrape()).doesNotContain("webhook_events_consumed_total{result=\"unrouted\"}");
    }
  }

  private static String account() {
    return "acc" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static String manifest(String account) {
    return """
        {"client_name": "secrets-key-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s"}}}}
        """.formatted(receiver.url("/" + account + "/content"));
  }

  private static void publish(RunningService service, String account, String message) {
    String conversation = UUID.randomUUID().toString();
    service.publish(account, conversation, Events.bytes(Events.content(conversation, message)));
  }

  private static void assertSignedWith(ReceivedRequest request, String secret) {
    assertThat(request.header("x-liveperson-signature"))
        .isEqualTo("sha1=" + Hmac.base64("HmacSHA1", secret, request.body().getBytes()));
  }

  private static List<ReceivedRequest> requestsTo(String account) {
    return receiver.requests().stream().filter(r -> r.uri().equals("/" + account + "/content")).toList();
  }
}
