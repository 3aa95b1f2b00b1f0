package dev.webhooks.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.delivery.Source;
import dev.webhooks.dispatcher.install.WebhookKeys;
import dev.webhooks.dispatcher.testing.Events;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
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
  void anUnknownTypeIsNamedWithTheTypesThatAreKnown() {
    Decoded decoded = decoder.decode(record("acc", Events.content("c", "x").replace("ContentEvent", "TypingEvent")));

    assertThat(decoded).isEqualTo(new Decoded.Rejected("unknown-type", "body.changes[0].event.type 'TypingEvent' is"
        + " not a known event type (one of ContentEvent, RichContentEvent, AcceptStatusEvent, ChatStateEvent)", "acc"));
  }

  @Test
  void aTypeFromTheRecordIsQuotedOnOneLineAndCutShort() {
    String forged = "Forged\\nWARN dead letter written: account=other " + "x".repeat(200);
    Decoded decoded = decoder.decode(record("acc", "{\"type\":\"" + forged + "\",\"body\":{\"changes\":[{}]}}"));

    assertThat(decoded).isInstanceOfSatisfying(Decoded.Rejected.class, r -> assertThat(r.error())
        .startsWith("unknown notification type 'Forged?WARN dead letter written: account=other xxx")
        .endsWith("x'...").doesNotContain("\n").hasSizeLessThan(100));
  }

  @Test
  void neverThrowsOnANullValue() {
    ConsumerRecord<byte[], byte[]> record = record("acc", "");
    ConsumerRecord<byte[], byte[]> nullValue = new ConsumerRecord<>("t", 0, 1, 0L, TimestampType.CREATE_TIME, 0, 0,
        null, null, record.headers(), Optional.empty());
    assertThat(decoder.decode(nullValue)).isInstanceOf(Decoded.Rejected.class);
  }

  @Test
  void findsTheTypeAfterTheBody() {
    String changes = "\"body\":{\"changes\":[{\"event\":{\"type\":\"ContentEvent\"}}]}";
    assertThat(keysOf("{" + changes + ",\"type\":\"ms.MessagingEventNotification\"}")).isEqualTo(WebhookKeys.CONTENT);
    assertThat(keysOf("{" + changes + ",\"type\":\"cqm.ExConversationChangeNotification\"}"))
        .isEqualTo(WebhookKeys.CONVERSATION_CHANGE);
  }

  @Test
  void findsTheEventTypeAfterOtherFieldsAndOnlyAtItsOwnPlace() {
    String change = "{\"type\":\"UPSERT\",\"sequence\":1,\"event\":{\"message\":\"hi\","
        + "\"content\":{\"type\":\"AcceptStatusEvent\"},\"type\":\"ChatStateEvent\"},\"x\":{\"event\":{\"type\":\"x\"}}}";
    assertThat(keysOf(messaging(change))).isEqualTo(WebhookKeys.CHAT_STATE);
  }

  @Test
  void rejectsADuplicateKeyAnywhereInAChange() {
    assertThat(reason(record("acc", messaging("{\"event\":{\"type\":\"ContentEvent\",\"type\":\"ChatStateEvent\"}}"))))
        .isEqualTo("invalid-json");
    Decoded deep = decoder.decode(record("acc",
        messaging("{\"event\":{\"type\":\"ContentEvent\",\"content\":[{\"a\":{\"b\":1,\"b\":1}}]}}")));
    assertThat(deep).isEqualTo(new Decoded.Rejected("invalid-json", "value is not JSON: Duplicate field 'b'", "acc"));
  }

  @Test
  void aParseErrorQuotesNoneOfTheValueSinceItIsLoggedAndDeadLettered() {
    Decoded bad = decoder.decode(record("acc", "{\"body\":{\"token\":hunter2secret}}"));
    assertThat(bad).isInstanceOfSatisfying(Decoded.Rejected.class, rejected -> {
      assertThat(rejected.reason()).isEqualTo("invalid-json");
      assertThat(rejected.error()).startsWith("value is not JSON: Unrecognized token").doesNotContain("hunter2");
    });
  }

  @Test
  void rejectsTrailingGarbageButNotTrailingSpace() {
    String json = Events.content("c1", "hi");
    assertThat(reason(record("acc", json + " x"))).isEqualTo("invalid-json");
    assertThat(reason(record("acc", json + "}"))).isEqualTo("invalid-json");
    assertThat(decoder.decode(record("acc", json + "{}"))).isEqualTo(new Decoded.Rejected("invalid-json",
        "value is not JSON: Trailing token (of type START_OBJECT) found after value: not allowed", "acc"));
    assertThat(decoder.decode(record("acc", json + " \n"))).isInstanceOf(Decoded.Accepted.class);
  }

  /** What building the tree rejected is still rejected in fields the decoder does not need: it reads them all. */
  @Test
  void rejectsWhatTheTreeRejectedInFieldsItDoesNotNeed() {
    String[] around = Events.content("c1", "@").split("@");
    byte[] surrogate = {(byte) 0xED, (byte) 0xA0, (byte) 0x80}; // U+D800 encoded, which is not UTF-8
    byte[] before = bytes(around[0]);
    byte[] after = bytes(around[1]);
    byte[] value = ByteBuffer.allocate(before.length + surrogate.length + after.length).put(before).put(surrogate).put(after)
        .array();
    assertThat(reason(record("acc", value))).isEqualTo("invalid-json");
    assertThat(reason(record("acc", around[0] + "\u0001" + around[1]))).isEqualTo("invalid-json"); // a raw control char
    // A float the tree holds as a BigDecimal has none: "invalid-event" then, and still.
    assertThat(decoder.decode(record("acc", around[0] + "\",\"n\":1e9999999999,\"m\":\"" + around[1])))
        .isInstanceOfSatisfying(Decoded.Rejected.class, r -> assertThat(r.reason()).isEqualTo("invalid-event"));
  }

  @Test
  void splitsARecordIntoTheSameBytesAsTheTreeDecoderDid() {
    String json = "{ \"kind\" : \"notification\",\n"
        + "  \"body\": {\"sentTs\": 1.50, \"changes\": [\n"
        + "    {\"sequence\": 1, \"event\": {\"message\": \"caf\u00e9 \\u00e9 \\ud83d\\ude00 \\\"q\\\"\", \"type\": \"ContentEvent\"}},\n"
        + "    {\"event\": {\"sequenceList\": [1, 1e5, 12345678901234567890123], \"type\": \"AcceptStatusEvent\"}},\n"
        + "    {\"event\": {\"type\": \"ContentEvent\", \"message\": \"two\", \"n\": -0.0}}], \"tail\": null},\n"
        + "  \"type\": \"ms.MessagingEventNotification\" }\n";
    Event event = accepted(record("acc", json));
    // Produced by the tree-building decoder this one replaced.
    assertThat(event.bodyFor(WebhookKeys.CONTENT).getBytes()).isEqualTo(bytes(
        "{\"kind\":\"notification\",\"body\":{\"sentTs\":1.50,\"changes\":["
            + "{\"sequence\":1,\"event\":{\"message\":\"caf\u00e9 \u00e9 \\uD83D\\uDE00 \\\"q\\\"\",\"type\":\"ContentEvent\"}},"
            + "{\"event\":{\"type\":\"ContentEvent\",\"message\":\"two\",\"n\":0.0}}],\"tail\":null},"
            + "\"type\":\"ms.MessagingEventNotification\"}"));
    assertThat(event.bodyFor(WebhookKeys.ACCEPT_STATUS).getBytes()).isEqualTo(bytes(
        "{\"kind\":\"notification\",\"body\":{\"sentTs\":1.50,\"changes\":["
            + "{\"event\":{\"sequenceList\":[1,1E+5,12345678901234567890123],\"type\":\"AcceptStatusEvent\"}}],\"tail\":null},"
            + "\"type\":\"ms.MessagingEventNotification\"}"));
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

  private static String messaging(String change) {
    return "{\"type\":\"ms.MessagingEventNotification\",\"body\":{\"changes\":[" + change + "]}}";
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void readsRecordsOfTheRetryTopicAsRetriesAndRejectsBrokenOnesWithTheReason() {
    EventDecoder both = new EventDecoder(1024, List.of("retries-1", "retries-2"));
    Retry retry = new Retry("acc", "client", WebhookKeys.CONTENT, "msg_1", "https://example.com/", 1, 0, 5,
        OptionalInt.empty(), "timeout", new Source("events", 0, 7, 1000L), Buffer.buffer("{}"));
    ProducerRecord<byte[], byte[]> written = retry.toRecord("retries-2");
    ConsumerRecord<byte[], byte[]> consumed = new ConsumerRecord<>("retries-2", 0, 3, written.key(), written.value());
    written.headers().forEach(consumed.headers()::add);

    assertThat(both.decode(consumed)).isInstanceOfSatisfying(Decoded.Retrying.class,
        r -> assertThat(r.retry().webhookId()).isEqualTo("msg_1"));
    consumed.headers().remove("webhook-id");
    assertThat(both.decode(consumed)).isInstanceOfSatisfying(Decoded.Rejected.class, r -> {
      assertThat(r.reason()).isEqualTo("invalid-retry");
      assertThat(r.error()).contains("'webhook-id'");
      assertThat(r.accountId()).isEqualTo("acc");
    });
    assertThat(both.decode(record("acc", Events.content("c", "x")))).as("the events topic still holds events")
        .isInstanceOf(Decoded.Accepted.class);
  }

  private static ConsumerRecord<byte[], byte[]> record(String account, String value) {
    return record(account, value.getBytes(StandardCharsets.UTF_8));
  }

  private static ConsumerRecord<byte[], byte[]> record(String account, byte[] bytes) {
    RecordHeaders headers = new RecordHeaders();
    if (account != null) {
      headers.add("account-id", account.getBytes(StandardCharsets.UTF_8));
    }
    return new ConsumerRecord<>("events", 0, 7, 1000L, TimestampType.CREATE_TIME, 0, bytes.length, null, bytes, headers, Optional.empty());
  }
}
