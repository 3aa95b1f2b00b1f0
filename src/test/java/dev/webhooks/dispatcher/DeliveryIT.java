package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.testing.Hmac;
import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** From a Kafka record to a signed HTTPS POST, through the whole service on a real broker. */
class DeliveryIT {
  private static Vertx vertx;
  private static TestReceiver receiver;
  private static RunningService service;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    service = RunningService.start(Map.of());
  }

  @AfterAll
  static void stop() throws Exception {
    service.close();
    receiver.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void eachEventTypeReachesItsEndpointSignedWithEveryHeader() throws Exception {
    String account = account();
    String prefix = "/" + account;
    JsonNode app = service.install(account, manifest(prefix, true));
    JsonNode otherAccountsApp = service.install(account(), manifest(prefix + "/other-account", true));
    JsonNode disabledApp = service.install(account, manifest(prefix + "/disabled", false));
    String conversation = UUID.randomUUID().toString();
    Map<String, String> events = Map.of(
        prefix + "/content?source=it", Events.content(conversation, "hello"),
        prefix + "/rich-content", Events.richContent(conversation),
        prefix + "/accept-status", Events.acceptStatus(conversation),
        prefix + "/chat-state", Events.chatState(conversation),
        prefix + "/conversation", Events.conversationChange(conversation));
    Instant before = Instant.now().minusSeconds(1);

    events.values().forEach(event -> service.publish(account, conversation, Events.bytes(event)));

    await().atMost(Duration.ofSeconds(30)).until(() -> requestsUnder(prefix).size() == events.size());
    service.awaitAllCommitted();
    List<ReceivedRequest> received = requestsUnder(prefix);
    assertThat(received).extracting(ReceivedRequest::uri).containsExactlyInAnyOrderElementsOf(events.keySet());
    String secret = app.get("client_secret").textValue();
    for (ReceivedRequest request : received) {
      byte[] body = request.body().getBytes();
      assertThat(new String(body, StandardCharsets.UTF_8)).isEqualTo(events.get(request.uri()));
      assertThat(request.method()).isEqualTo("POST");
      assertThat(request.header("Content-Type")).isEqualTo("application/json");
      assertThat(request.header("x-liveperson-account-id")).isEqualTo(account);
      assertThat(request.header("x-liveperson-client-id")).isEqualTo(app.get("client_id").textValue());
      assertThat(request.header("x-liveperson-signature")).isEqualTo("sha1=" + Hmac.base64("HmacSHA1", secret, body));
      String id = request.header("webhook-id");
      String timestamp = request.header("webhook-timestamp");
      assertThat(id).isNotBlank().doesNotContain(".");
      assertThat(Long.parseLong(timestamp)).isBetween(before.getEpochSecond(), Instant.now().getEpochSecond());
      byte[] signed = concat((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8), body);
      assertThat(request.header("webhook-signature")).isEqualTo("v1," + Hmac.base64("HmacSHA256", secret, signed));
    }
    assertThat(received).extracting(r -> r.header("webhook-id")).doesNotHaveDuplicates();
    ReceivedRequest content = received.stream().filter(r -> r.uri().contains("/content")).findFirst().orElseThrow();
    assertThat(content.header("X-Custom-Token")).isEqualTo("token-for-" + account);
    assertThat(content.header("X-Second")).isEqualTo("two words");
    assertThat(received.stream().filter(r -> !r.uri().contains("/content")))
        .allSatisfy(r -> assertThat(r.header("X-Custom-Token")).isNull());
    assertThat(otherAccountsApp.get("client_id").textValue()).isNotEqualTo(disabledApp.get("client_id").textValue());
    assertThat(requestsUnder(prefix + "/other-account")).isEmpty();
    assertThat(requestsUnder(prefix + "/disabled")).isEmpty();
  }

  @Test
  void aRecordWhoseChangesSpanTwoWebhookKeysBecomesTwoPosts() {
    String account = account();
    String prefix = "/" + account;
    service.install(account, manifest(prefix, true));
    String conversation = UUID.randomUUID().toString();

    service.publish(account, conversation, Events.bytes(Events.contentAndAcceptStatus(conversation)));

    await().atMost(Duration.ofSeconds(30)).until(() -> requestsUnder(prefix).size() == 2);
    ReceivedRequest content = single(prefix + "/content?source=it");
    ReceivedRequest accept = single(prefix + "/accept-status");
    JsonNode contentChanges = RunningService.parse(content.body().toString()).at("/body/changes");
    JsonNode acceptChanges = RunningService.parse(accept.body().toString()).at("/body/changes");
    assertThat(contentChanges).extracting(c -> c.at("/event/message").textValue()).containsExactly("one", "two");
    assertThat(acceptChanges).extracting(c -> c.at("/event/type").textValue()).containsExactly("AcceptStatusEvent");
    assertThat(content.body().toString()).startsWith("{\"kind\":\"notification\",\"body\":{\"changes\":[")
        .endsWith("]},\"type\":\"ms.MessagingEventNotification\"}").doesNotContain(" ");
    assertThat(content.header("webhook-id")).isNotEqualTo(accept.header("webhook-id"));
  }

  @Test
  void metricsCountWhatHappened() {
    String account = account();
    String prefix = "/" + account;
    service.install(account, manifest(prefix, true));
    String conversation = UUID.randomUUID().toString();
    double before = delivered(service.scrape(), "ChatStateEvent");

    service.publish(account, conversation, Events.bytes(Events.chatState(conversation)));

    await().atMost(Duration.ofSeconds(30)).until(() -> requestsUnder(prefix).size() == 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered(service.scrape(), "ChatStateEvent") == before + 1);
    String metrics = service.scrape();
    assertThat(metrics)
        .contains("webhook_events_consumed_total{result=\"routed\"}")
        .contains("webhook_delivery_latency_seconds_bucket")
        .contains("webhook_installations{state=\"enabled\"}")
        .contains("jvm_memory_used_bytes")
        .contains("process_cpu_usage")
        .contains("kafka_consumer_fetch_manager_records_lag")
        .contains("webhook_delivery_connections ")
        .contains("vertx_http_server_");
    assertThat(service.get("/health/ready").statusCode()).isEqualTo(200);
    assertThat(service.get("/health/live").statusCode()).isEqualTo(200);
  }

  private static double delivered(String metrics, String eventType) {
    String prefix = "webhook_deliveries_total{event_type=\"" + eventType + "\",outcome=\"delivered\"} ";
    return metrics.lines().filter(l -> l.startsWith(prefix)).mapToDouble(l -> Double.parseDouble(l.substring(prefix.length())))
        .findFirst().orElse(0);
  }

  private static ReceivedRequest single(String uri) {
    List<ReceivedRequest> matching = receiver.requests().stream().filter(r -> r.uri().equals(uri)).toList();
    assertThat(matching).as("requests to " + uri).hasSize(1);
    return matching.get(0);
  }

  private static List<ReceivedRequest> requestsUnder(String prefix) {
    return receiver.requests().stream().filter(r -> r.uri().startsWith(prefix + "/")).toList();
  }

  private static String account() {
    return "acc" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Every event type of the product to its own path under {@code prefix}; custom headers on ContentEvent only. */
  static String manifest(String prefix, boolean enabled) {
    String account = prefix.substring(1).split("/")[0];
    return """
        {"client_name": "delivery-it", "grant_types": ["client_credentials"], "enabled": %s,
         "capabilities": {"webhooks": {
           "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": 1,
             "headers": [{"header_name": "X-Custom-Token", "header_value": "token-for-%s"},
                         {"header_name": "X-Second", "header_value": "two words"}]},
           "ms.MessagingEventNotification.RichContentEvent": {"endpoint": "%s"},
           "ms.MessagingEventNotification.AcceptStatusEvent": {"endpoint": "%s"},
           "ms.MessagingEventNotification.ChatStateEvent": {"endpoint": "%s"},
           "cqm.ExConversationChangeNotification": {"endpoint": "%s"}}}}
        """.formatted(enabled, receiver.url(prefix + "/content?source=it"), account,
        receiver.url(prefix + "/rich-content"), receiver.url(prefix + "/accept-status"),
        receiver.url(prefix + "/chat-state"), receiver.url(prefix + "/conversation"));
  }


  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
