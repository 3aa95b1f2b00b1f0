package dev.webhooks.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.install.WebhookKeys;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/**
 * The decoder over random bytes, random headers and random JSON shaped more or less like a notification: it never
 * throws, and every record is either accepted with bodies that are the JSON of its own changes, or rejected with a
 * dead-letter reason and a human line.
 */
class EventDecoderPropertyTest {
  private static final Set<String> REASONS =
      Set.of("too-large", "missing-account", "invalid-json", "unknown-type", "no-changes", "invalid-event");
  private static final int CAP = 4096;
  private final EventDecoder decoder = new EventDecoder(CAP);

  @Property(tries = 2000)
  void randomBytesAreAcceptedOrRejectedWithAReason(
      @ForAll @Size(max = 5000) byte[] value, @ForAll("accounts") Optional<byte[]> account) {
    check(record(account.orElse(null), value));
  }

  @Property(tries = 2000)
  void randomNotificationsAreAcceptedOrRejectedWithAReason(@ForAll("notifications") String json) {
    Decoded decoded = check(record("acc".getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8)));
    Statistics.collect(decoded instanceof Decoded.Rejected r ? r.reason() : "accepted");
    Statistics.coverage(c -> {
      c.check("accepted").percentage(p -> p > 10); // the generator reaches the accepting paths, not only the rejects
      c.check("unknown-type").count(n -> n > 0);
      c.check("invalid-event").count(n -> n > 0);
    });
  }

  @Test
  void deeplyNestedJsonIsRejectedWithoutExhaustingTheStack() {
    EventDecoder roomy = new EventDecoder(4 * 1024 * 1024);
    String deep = "[".repeat(1_000_000) + "]".repeat(1_000_000);
    String deepObject = "{\"type\":\"ms.MessagingEventNotification\",\"body\":" + "{\"a\":".repeat(200_000) + "1"
        + "}".repeat(200_000) + "}";
    assertThat(reason(roomy, deep)).isEqualTo("invalid-json");
    assertThat(reason(roomy, deepObject)).isEqualTo("invalid-json");
  }

  @Test
  void aHugeRecordIsRejectedBeforeItIsParsed() {
    byte[] huge = new byte[CAP + 1];
    java.util.Arrays.fill(huge, (byte) '[');
    Decoded decoded = decoder.decode(record("acc".getBytes(StandardCharsets.UTF_8), huge));
    assertThat(decoded).isInstanceOfSatisfying(Decoded.Rejected.class, r -> assertThat(r.reason()).isEqualTo("too-large"));
  }

  private Decoded check(ConsumerRecord<byte[], byte[]> record) {
    Decoded decoded = decoder.decode(record); // a throw fails the property
    if (decoded instanceof Decoded.Rejected rejected) {
      assertThat(REASONS).contains(rejected.reason());
      assertThat(rejected.error()).isNotBlank().doesNotContain("\n");
      return decoded;
    }
    Event event = ((Decoded.Accepted) decoded).event();
    assertThat(event.webhookKeys()).isNotEmpty();
    assertThat(WebhookKeys.ALL).containsAll(event.webhookKeys());
    assertThat(event.accountId()).isNotBlank();
    int changes = 0;
    for (String key : event.webhookKeys()) {
      JsonNode body = parse(event.bodyFor(key).getBytes());
      assertThat(body.path("body").path("changes").isArray()).isTrue();
      changes += body.path("body").path("changes").size();
    }
    assertThat(changes).isEqualTo(parse(record.value()).path("body").path("changes").size());
    return decoded;
  }

  private static JsonNode parse(byte[] bytes) {
    try {
      return Json.read(bytes);
    } catch (java.io.IOException e) {
      throw new AssertionError("an accepted body must be JSON", e);
    }
  }

  private static String reason(EventDecoder decoder, String value) {
    Decoded decoded = decoder.decode(record("acc".getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8)));
    assertThat(decoded).isInstanceOf(Decoded.Rejected.class);
    return ((Decoded.Rejected) decoded).reason();
  }

  @Provide
  Arbitrary<Optional<byte[]>> accounts() {
    Arbitrary<byte[]> anyBytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(20);
    Arbitrary<byte[]> text = Arbitraries.strings().ofMaxLength(20).map(s -> s.getBytes(StandardCharsets.UTF_8));
    return Arbitraries.oneOf(anyBytes, text).optional(0.9);
  }

  /** JSON built from the notification's own vocabulary, with wrong types, missing parts and junk mixed in. */
  @Provide
  Arbitrary<String> notifications() {
    Arbitrary<String> eventType = Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.of("\"ContentEvent\"", "\"RichContentEvent\"", "\"AcceptStatusEvent\"", "\"ChatStateEvent\"")),
        Tuple.of(1, Arbitraries.of("\"PresenceEvent\"", "\"\"", "null", "1", "[]", "{}")));
    Arbitrary<String> change = Arbitraries.frequencyOf(
        Tuple.of(8, eventType.map(t -> "{\"event\":{\"type\":" + t + ",\"message\":\"hi\"},\"sequence\":1}")),
        Tuple.of(1, eventType.map(t -> "{\"event\":" + t + "}")),
        Tuple.of(1, Arbitraries.of("{}", "1", "\"x\"", "null", "[]", "{\"type\":\"UPSERT\",\"result\":{}}")));
    Arbitrary<String> changes = Arbitraries.frequencyOf(
        Tuple.of(8, change.list().ofMaxSize(4).map(list -> "[" + String.join(",", list) + "]")),
        Tuple.of(1, Arbitraries.of("null", "{}", "\"changes\"", "7")));
    Arbitrary<String> type = Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.of("\"ms.MessagingEventNotification\"", "\"cqm.ExConversationChangeNotification\"")),
        Tuple.of(1, Arbitraries.of("\"ms.Other\"", "null", "3", "{}")));
    Arbitrary<String> body = Arbitraries.frequencyOf(
        Tuple.of(8, changes.map(c -> "{\"sentTs\":1.50,\"changes\":" + c + "}")),
        Tuple.of(1, Arbitraries.of("null", "[]", "\"body\"", "{}")));
    Arbitrary<String> junk = Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.just("")),
        Tuple.of(1, Arbitraries.of(",", "}", "{", "\"", "\\u0000", ",\"type\":\"x\"", " ", "\u00e9")));
    return Combinators.combine(type, body, junk, Arbitraries.integers().between(0, 3)).as((t, b, j, shape) -> switch (shape) {
      case 0 -> "{\"kind\":\"notification\",\"body\":" + b + ",\"type\":" + t + "}";
      case 1 -> "{\"type\":" + t + ",\"body\":" + b + "}" + j;
      case 2 -> "{\"type\":" + t + j + ",\"body\":" + b + "}";
      default -> "[" + b + "]";
    });
  }

  private static ConsumerRecord<byte[], byte[]> record(byte[] account, byte[] value) {
    RecordHeaders headers = new RecordHeaders();
    if (account != null) {
      headers.add("account-id", account);
    }
    return new ConsumerRecord<>("events", 0, 7, 1000L, TimestampType.CREATE_TIME, 0, value.length, null, value, headers,
        Optional.empty());
  }
}
