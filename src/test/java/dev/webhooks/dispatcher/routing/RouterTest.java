package dev.webhooks.dispatcher.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.delivery.Source;
import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.InstallationView;
import dev.webhooks.dispatcher.install.Webhook;
import dev.webhooks.dispatcher.install.WebhookKeys;
import dev.webhooks.dispatcher.intake.Decoded;
import dev.webhooks.dispatcher.intake.Event;
import dev.webhooks.dispatcher.intake.EventDecoder;
import dev.webhooks.dispatcher.testing.Events;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class RouterTest {
  private static final Webhook HOOK = new Webhook("https://example.com/hook?x=1", 2, List.of());

  @Test
  void routesToEveryEnabledAppOfTheAccountWithAWebhookForTheKey() {
    Installation a = app("a", "acc", true, Map.of(WebhookKeys.CONTENT, HOOK));
    Installation b = app("b", "acc", true, Map.of(WebhookKeys.CONTENT, HOOK, WebhookKeys.CHAT_STATE, HOOK));
    Installation disabled = app("c", "acc", false, Map.of(WebhookKeys.CONTENT, HOOK));
    Installation otherKey = app("d", "acc", true, Map.of(WebhookKeys.CHAT_STATE, HOOK));
    Installation otherAccount = app("e", "other", true, Map.of(WebhookKeys.CONTENT, HOOK));
    Router router = new Router(view(a, b, disabled, otherKey, otherAccount));

    List<Delivery> deliveries = router.route(event("acc", Events.content("c1", "hi"), 5));

    assertThat(deliveries).extracting(d -> d.app().clientId()).containsExactlyInAnyOrder("a", "b");
    assertThat(deliveries).allSatisfy(d -> assertThat(d.webhookKey()).isEqualTo(WebhookKeys.CONTENT));
  }

  @Test
  void givesEachDeliveryAnIdStableForTheSameRecordAndDistinctOtherwise() {
    Installation a = app("a", "acc", true, Map.of(WebhookKeys.CONTENT, HOOK, WebhookKeys.ACCEPT_STATUS, HOOK));
    Router router = new Router(view(a));
    List<Delivery> first = router.route(event("acc", Events.contentAndAcceptStatus("c1"), 5));
    List<Delivery> again = router.route(event("acc", Events.contentAndAcceptStatus("c1"), 5));
    List<Delivery> next = router.route(event("acc", Events.contentAndAcceptStatus("c1"), 6));

    assertThat(first).hasSize(2);
    assertThat(first).extracting(Delivery::webhookId).doesNotHaveDuplicates().allSatisfy(id -> {
      assertThat(id).startsWith("msg_").doesNotContain(".");
    });
    assertThat(again).extracting(Delivery::webhookId).isEqualTo(first.stream().map(Delivery::webhookId).toList());
    assertThat(next).extracting(Delivery::webhookId).doesNotContainAnyElementsOf(first.stream().map(Delivery::webhookId).toList());
  }

  @Test
  void resumesARetryWithTheAppAsInstalledNowOrNotAtAll() {
    Webhook moved = new Webhook("https://example.com/moved", 4, List.of());
    Installation now = app("a", "acc", true, Map.of(WebhookKeys.CONTENT, moved));
    Retry retry = new Retry("acc", "a", WebhookKeys.CONTENT, "msg_1", HOOK.endpoint(), 2, 0, 0, OptionalInt.of(500),
        "HTTP 500", new Source("events", 1, 7, 0), Buffer.buffer("{}"));

    Delivery resumed = new Router(view(now)).resume(retry).orElseThrow();

    assertThat(resumed.webhook()).isEqualTo(moved);
    assertThat(resumed.webhookId()).isEqualTo("msg_1");
    assertThat(resumed.source()).isEqualTo(retry.source());
    assertThat(resumed.body()).isEqualTo(retry.body());
    assertThat(new Router(view()).resume(retry)).as("uninstalled").isEmpty();
    assertThat(new Router(view(app("a", "acc", false, Map.of(WebhookKeys.CONTENT, HOOK)))).resume(retry))
        .as("disabled").isEmpty();
    assertThat(new Router(view(app("a", "acc", true, Map.of(WebhookKeys.CHAT_STATE, HOOK)))).resume(retry))
        .as("no webhook for the key any more").isEmpty();
    assertThat(new Router(view(app("b", "acc", true, Map.of(WebhookKeys.CONTENT, HOOK)))).resume(retry))
        .as("another app of the account").isEmpty();
  }

  @Test
  void routesNothingForAnAccountWithoutApps() {
    assertThat(new Router(view()).route(event("nobody", Events.content("c", "x"), 1))).isEmpty();
  }

  private static Event event(String account, String json, long offset) {
    RecordHeaders headers = new RecordHeaders();
    headers.add("account-id", account.getBytes(StandardCharsets.UTF_8));
    byte[] value = json.getBytes(StandardCharsets.UTF_8);
    ConsumerRecord<byte[], byte[]> record =
        new ConsumerRecord<>("events", 1, offset, 0L, TimestampType.CREATE_TIME, 0, value.length, null, value, headers, Optional.empty());
    return ((Decoded.Accepted) new EventDecoder(1 << 20).decode(record)).event();
  }

  private static Installation app(String id, String account, boolean enabled, Map<String, Webhook> webhooks) {
    return new Installation(id, account, enabled, webhooks, List.of("secret-" + id), JsonNodeFactory.instance.objectNode(), 0, "1");
  }

  private static InstallationView view(Installation... apps) {
    return new InstallationView() {
      @Override
      public List<Installation> installationsOf(String accountId) {
        return java.util.Arrays.stream(apps).filter(a -> a.accountId().equals(accountId)).toList();
      }

      @Override
      public Optional<Installation> find(String installationId) {
        return java.util.Arrays.stream(apps).filter(a -> a.id().equals(installationId)).findFirst();
      }
    };
  }

  @SuppressWarnings("unused")
  private static Source source() {
    return new Source("events", 0, 0, 0);
  }
}
