package dev.webhooks.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.install.WebhookKeys;
import dev.webhooks.dispatcher.testing.Events;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class EventDecoderTest {
  private final EventDecoder decoder = new EventDecoder(1024);

  @Test
  void acceptsEachEventTypeUnderItsWebhookKey() {
    assertThat(keysOf(Events.content("c1", "hi"))).isEqualTo(WebhookKeys.CONTENT);
    assertThat(keysOf(Events.richContent("c1"))).isEqualTo(WebhookKeys.RICH_CONTENT);
    assertThat(keysOf(Events.acceptStatus("c1"))).isEqualTo(WebhookKeys.ACCEPT_STATUS);
    assertThat(keysOf(Events.chatState("c1"))).isEqualTo(WebhookKeys.CHAT_STATE);
    assertThat(keysOf(Events.conversationChange("c1"))).isEqualTo(WebhookKeys.CONVERSATION_CHANGE);
  }

  @Test
  void passesASingleKeyRecordThroughByteForByte() {
    String json =
        "{ \"kind\" : \"notification\", \"body\": {\"changes\": [{\"event\": {\"type\": \"ChatStateEvent\"}, \"x\": 1.50}]},"
            + " \"type\": \"ms.MessagingEventNotification\"}";
    Event event = accepted(record("acc", json));
    assertThat(event.bodyFor(WebhookKeys.CHAT_STATE).getBytes()).isEqualTo(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void splitsChangesOfSeveralKeysKeepingOrderAndOtherFields() {
    Event event = accepted(record("acc", Events.contentAndAcceptStatus("c9")));
    assertThat(event.webhookKeys()).containsExactly(WebhookKeys.CONTENT, WebhookKeys.ACCEPT_STATUS);
    String content = event.bodyFor(WebhookKeys.CONTENT).toString();
    assertThat(content).startsWith("{\"kind\":\"notification\",\"body\":{\"changes\":[{\"sequence\":39");
    assertThat(content).endsWith("]},\"type\":\"ms.MessagingEventNotification\"}");
    assertThat(content.indexOf("\"one\"")).isPositive().isLessThan(content.indexOf("\"two\""));
    assertThat(content).doesNotContain("AcceptStatusEvent").doesNotContain(" ");
    assertThat(event.bodyFor(WebhookKeys.ACCEPT_STATUS).toString())
        .contains("\"sequenceList\":[39]")
        .doesNotContain("ContentEvent");
  }

  @Test
  void rejectsWhatCannotBeRoutedWithAReason() {
    assertThat(reason(record("acc", "not json"))).isEqualTo("invalid-json");
    assertThat(reason(record("acc", "[1,2]"))).isEqualTo("invalid-json");
    assertThat(reason(record(null, Events.content("c", "x")))).isEqualTo("missing-account");
    assertThat(reason(record("", Events.content("c", "x")))).isEqualTo("missing-account");
    assertThat(reason(record("acc", "{\"type\":\"ms.Other\",\"body\":{\"changes\":[{}]}}"))).isEqualTo("unknown-type");
    assertThat(reason(record("acc", Events.content("c", "x").replace("ContentEvent", "PresenceEvent")))).isEqualTo("unknown-type");
    assertThat(reason(record("acc", "{\"type\":\"ms.MessagingEventNotification\",\"body\":{\"changes\":[]}}"))).isEqualTo("no-changes");
    assertThat(reason(record("acc", "{\"a\":1,\"a\":2}"))).isEqualTo("invalid-json");
    assertThat(reason(record("acc", "{\"x\":\"" + "y".repeat(2000) + "\"}"))).isEqualTo("too-large");
  }

  @Test
  void neverThrowsOnANullValue() {
    ConsumerRecord<byte[], byte[]> record = record("acc", "");
    ConsumerRecord<byte[], byte[]> nullValue = new ConsumerRecord<>("t", 0, 1, 0L, TimestampType.CREATE_TIME, 0, 0,
        null, null, record.headers(), Optional.empty());
    assertThat(decoder.decode(nullValue)).isInstanceOf(Decoded.Rejected.class);
  }

  private String keysOf(String json) {
    return String.join(",", accepted(record("acc", json)).webhookKeys());
  }

  private Event accepted(ConsumerRecord<byte[], byte[]> record) {
    Decoded decoded = decoder.decode(record);
    assertThat(decoded).isInstanceOf(Decoded.Accepted.class);
    return ((Decoded.Accepted) decoded).event();
  }

  private String reason(ConsumerRecord<byte[], byte[]> record) {
    Decoded decoded = decoder.decode(record);
    assertThat(decoded).isInstanceOf(Decoded.Rejected.class);
    return ((Decoded.Rejected) decoded).reason();
  }

  private static ConsumerRecord<byte[], byte[]> record(String account, String value) {
    RecordHeaders headers = new RecordHeaders();
    if (account != null) {
      headers.add("account-id", account.getBytes(StandardCharsets.UTF_8));
    }
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    return new ConsumerRecord<>("events", 0, 7, 1000L, TimestampType.CREATE_TIME, 0, bytes.length, null, bytes, headers, Optional.empty());
  }
}
