package dev.webhooks.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.webhooks.dispatcher.install.WebhookKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

/**
 * The streaming decoder against the tree-building one it replaced (kept here as {@link #treeVerdict}): on JSON shaped
 * like notifications, with fields in any order, duplicated or missing, odd values, and bytes spliced in or cut out,
 * both give the same verdict, the same dead-letter line and the same bodies, byte for byte.
 */
class EventDecoderTreeEquivalenceTest {
  private static final String MESSAGING = "ms.MessagingEventNotification";
  private final EventDecoder decoder = new EventDecoder(1 << 20);

  @Property(tries = 3000, edgeCases = EdgeCasesMode.NONE) // edge cases would mostly be documents with duplicates
  void decodesNotificationsAsTheTreeDid(@ForAll("documents") byte[] value) {
    String verdict = streamingVerdict(value);
    assertThat(verdict).isEqualTo(treeVerdict(value));
    Statistics.collect(verdict.substring(0, verdict.indexOf(':'))); // the reason, or "accepted" and the number of keys
    Statistics.coverage(c -> {
      c.check("accepted 1").percentage(p -> p > 5);
      c.check("accepted 2").count(n -> n > 0);
      c.check("invalid-json").percentage(p -> p > 10);
      c.check("invalid-event").count(n -> n > 0);
      c.check("unknown-type").count(n -> n > 0);
    });
  }

  @Property(tries = 1000)
  void decodesRandomBytesAsTheTreeDid(@ForAll @Size(max = 200) byte[] value) {
    assertThat(streamingVerdict(value)).isEqualTo(treeVerdict(value));
  }

  private String streamingVerdict(byte[] value) {
    RecordHeaders headers = new RecordHeaders();
    headers.add("account-id", "acc".getBytes(StandardCharsets.UTF_8));
    Decoded decoded = decoder.decode(new ConsumerRecord<>("events", 0, 7, 1000L, TimestampType.CREATE_TIME, 0,
        value.length, null, value, headers, Optional.empty()));
    if (decoded instanceof Decoded.Rejected rejected) {
      return rejected.reason() + ": " + rejected.error();
    }
    Event event = ((Decoded.Accepted) decoded).event();
    Map<String, String> bodies = new LinkedHashMap<>();
    event.webhookKeys().forEach(key -> bodies.put(key, bytesOf(event.bodyFor(key).getBytes())));
    return "accepted " + bodies.size() + ": " + bodies;
  }

  /** The decoder as it was, on a tree; only the trailing-token message, which was databind's, now reads shorter. */
  private static String treeVerdict(byte[] value) {
    JsonNode root;
    try {
      root = Json.read(value);
    } catch (IOException e) {
      String message = e.getMessage().split("\n")[0].replace(
          " (bound as `com.fasterxml.jackson.databind.JsonNode`): not allowed as per `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`",
          ": not allowed");
      return "invalid-json: value is not JSON: " + message;
    } catch (RuntimeException e) {
      return "invalid-event: cannot decode: " + e;
    }
    if (!(root instanceof ObjectNode envelope)) {
      return "invalid-json: value is not a JSON object";
    }
    String type = envelope.path("type").asText("");
    if (!type.equals(MESSAGING) && !type.equals(WebhookKeys.CONVERSATION_CHANGE)) {
      return "unknown-type: unknown notification type " + EventDecoder.quoted(type);
    }
    JsonNode changes = envelope.path("body").path("changes");
    if (!changes.isArray() || changes.isEmpty()) {
      return "no-changes: body.changes is missing or empty";
    }
    Map<String, ArrayNode> byKey = new LinkedHashMap<>();
    for (int i = 0; i < changes.size(); i++) {
      JsonNode change = changes.get(i);
      if (!change.isObject()) {
        return "invalid-event: body.changes[" + i + "] is not an object";
      }
      String key = type.equals(MESSAGING) ? MESSAGING + "." + change.path("event").path("type").asText("") : type;
      if (!WebhookKeys.ALL.contains(key)) {
        return "unknown-type: body.changes[" + i + "].event.type "
            + EventDecoder.quoted(change.path("event").path("type").asText("")) + " is not a known event type (one of"
            + " ContentEvent, RichContentEvent, AcceptStatusEvent, ChatStateEvent)";
      }
      byKey.computeIfAbsent(key, k -> JsonNodeFactory.instance.arrayNode()).add(change);
    }
    Map<String, String> bodies = new LinkedHashMap<>();
    byKey.forEach((key, own) -> {
      ObjectNode copy = envelope.deepCopy();
      ((ObjectNode) copy.get("body")).set("changes", own);
      bodies.put(key, bytesOf(byKey.size() == 1 ? value : Json.write(copy)));
    });
    return "accepted " + bodies.size() + ": " + bodies;
  }

  /** One char per byte, so that comparing the strings compares the bytes. */
  private static String bytesOf(byte[] bytes) {
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  @Provide
  Arbitrary<byte[]> documents() {
    // Values whose text the type's message shows identically either way (the tree printed 1e5 as 1E+5, -0 as 0).
    Arbitrary<String> plain = Arbitraries.of("\"hi\"", "\"\"", "1", "1.50", "true", "null", "[]", "{}",
        "\"caf\u00e9 \\u00e9 \\ud83d\\ude00 \\\"q\\\"\"", "[1,{\"a\":[null,-0,1e5,-1.5E-7]}]", "12345678901234567890123");
    Arbitrary<String> odd = Arbitraries.of("1e9999999999", "\"\\ud800\"", "-0.0", "123456789012345678901234.5e-3");
    Arbitrary<String> value = Arbitraries.frequencyOf(Tuple.of(16, plain), Tuple.of(1, odd));
    Arbitrary<String> eventType = Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.of("\"ContentEvent\"", "\"RichContentEvent\"", "\"AcceptStatusEvent\"", "\"ChatStateEvent\"")),
        Tuple.of(1, Arbitraries.of("\"PresenceEvent\"", "{\"type\":\"ContentEvent\"}")),
        Tuple.of(1, plain));
    Arbitrary<String> event = Arbitraries.frequencyOf(
        Tuple.of(8, object(field("type", eventType), field("message", value), field("content", value))),
        Tuple.of(1, value));
    Arbitrary<String> change = Arbitraries.frequencyOf(
        Tuple.of(8, object(field("event", event), field("sequence", value), field("type", Arbitraries.of("\"UPSERT\"")))),
        Tuple.of(1, value));
    Arbitrary<String> changes = Arbitraries.frequencyOf(
        Tuple.of(8, change.list().ofMinSize(1).ofMaxSize(4).map(list -> "[" + String.join(", ", list) + "]")),
        Tuple.of(1, value));
    Arbitrary<String> body = Arbitraries.frequencyOf(
        Tuple.of(8, object(field("changes", changes), field("sentTs", value))),
        Tuple.of(1, value));
    Arbitrary<String> type = Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.of("\"" + MESSAGING + "\"", "\"" + WebhookKeys.CONVERSATION_CHANGE + "\"")),
        Tuple.of(1, Arbitraries.of("\"ms.Other\"", "[\"" + MESSAGING + "\"]")),
        Tuple.of(1, plain));
    Arbitrary<String> root = Arbitraries.frequencyOf(
        Tuple.of(8, object(field("type", type), field("body", body), field("kind", value))),
        Tuple.of(1, value));
    return root.flatMap(json -> damaged(json.getBytes(StandardCharsets.UTF_8)));
  }

  /** A field, {@code "name":value}: mostly once, sometimes missing, sometimes twice. */
  private static Arbitrary<List<String>> field(String name, Arbitrary<String> value) {
    Arbitrary<String> one = value.map(v -> "\"" + name + "\": " + v);
    return Arbitraries.frequencyOf(
        Tuple.of(100, one.list().ofSize(1)), Tuple.of(1, Arbitraries.just(List.of())), Tuple.of(1, one.list().ofSize(2)));
  }

  /** An object of these fields in any order. */
  @SafeVarargs
  private static Arbitrary<String> object(Arbitrary<List<String>>... fields) {
    return Combinators.combine(List.of(fields))
        .as(lists -> lists.stream().flatMap(List::stream).toList())
        .flatMap(Arbitraries::shuffle)
        .map(list -> "{" + String.join(", ", list) + "}");
  }

  /** Mostly intact; else with bytes spliced in, one byte cut out, or bytes after the value. */
  private static Arbitrary<byte[]> damaged(byte[] json) {
    Arbitrary<byte[]> junk = Arbitraries.of(
        bytes(","), bytes("}"), bytes("]"), bytes("\""), bytes(":"), bytes("x"), bytes("\\"), bytes("\u0001"), bytes("{}"),
        bytes(" "), new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xC3}, new byte[] {(byte) 0xFF});
    Arbitrary<Integer> at = Arbitraries.integers().between(0, json.length - 1);
    return Arbitraries.frequencyOf(
        Tuple.of(20, Arbitraries.just(json)),
        Tuple.of(2, Combinators.combine(at, junk).as((i, bytes) -> splice(json, i, 0, bytes))),
        Tuple.of(1, at.map(i -> splice(json, i, 1, new byte[0]))),
        Tuple.of(1, junk.map(bytes -> splice(json, json.length, 0, bytes))));
  }

  private static byte[] splice(byte[] bytes, int at, int cut, byte[] insert) {
    byte[] out = new byte[bytes.length - cut + insert.length];
    System.arraycopy(bytes, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(bytes, at + cut, out, at + insert.length, bytes.length - at - cut);
    return out;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
