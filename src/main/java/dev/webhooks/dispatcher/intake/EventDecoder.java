package dev.webhooks.dispatcher.intake;

import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.delivery.Source;
import dev.webhooks.dispatcher.install.WebhookKeys;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Turns a Kafka record into an {@link Event} (or, from the retry topic, a {@link Retry}), or says in one word why it
 * cannot be routed. Never throws: every record ends up accepted or rejected. Thread-safe.
 */
public final class EventDecoder {
  /** The record header that names the event's account. */
  public static final String ACCOUNT_HEADER = "account-id";
  private static final String MESSAGING = "ms.MessagingEventNotification";
  /** What a messaging change's {@code event.type} may be, as a rejection lists it. */
  private static final String MESSAGING_EVENT_TYPES = WebhookKeys.ALL.stream()
      .filter(key -> key.startsWith(MESSAGING + "."))
      .map(key -> key.substring(MESSAGING.length() + 1))
      .collect(Collectors.joining(", "));
  /** A type a producer wrote is quoted up to this length: enough for any real one, too little for a body in it. */
  private static final int QUOTED_MAX_CHARS = 64;

  private final int maxEventBytes;
  private final Set<String> retryTopics;

  /** A decoder of events only. */
  public EventDecoder(int maxEventBytes) {
    this(maxEventBytes, List.of());
  }

  /** A decoder of events, and of retries for the records of {@code retryTopics}. */
  public EventDecoder(int maxEventBytes, Collection<String> retryTopics) {
    this.maxEventBytes = maxEventBytes;
    this.retryTopics = Set.copyOf(retryTopics);
  }

  public Decoded decode(ConsumerRecord<byte[], byte[]> record) {
    try {
      if (retryTopics.contains(record.topic())) {
        return decodeRetry(record);
      }
      return decodeChecked(record);
    } catch (RuntimeException e) {
      return new Decoded.Rejected("invalid-event", "cannot decode: " + e, "");
    }
  }

  private Decoded decodeRetry(ConsumerRecord<byte[], byte[]> record) {
    try {
      return new Decoded.Retrying(Retry.fromRecord(record));
    } catch (IllegalArgumentException e) {
      return new Decoded.Rejected("invalid-retry", e.getMessage(), accountOf(record));
    }
  }

  private Decoded decodeChecked(ConsumerRecord<byte[], byte[]> record) {
    byte[] value = record.value() == null ? new byte[0] : record.value();
    String account = accountOf(record);
    if (value.length > maxEventBytes) {
      return new Decoded.Rejected(
          "too-large", "value is " + value.length + " bytes, over MAX_EVENT_BYTES " + maxEventBytes, account);
    }
    if (account.isEmpty()) {
      return new Decoded.Rejected("missing-account", "record has no UTF-8 '" + ACCOUNT_HEADER + "' header", "");
    }
    Envelope envelope;
    try {
      envelope = Envelope.read(value);
    } catch (IOException e) {
      return new Decoded.Rejected("invalid-json", "value is not JSON: " + firstLine(e.getMessage()), account);
    }
    if (!envelope.object()) {
      return new Decoded.Rejected("invalid-json", "value is not a JSON object", account);
    }
    String type = envelope.type();
    if (!type.equals(MESSAGING) && !type.equals(WebhookKeys.CONVERSATION_CHANGE)) {
      return new Decoded.Rejected("unknown-type", "unknown notification type " + quoted(type), account);
    }
    List<Envelope.Change> changes = envelope.changes();
    if (changes == null || changes.isEmpty()) {
      return new Decoded.Rejected("no-changes", "body.changes is missing or empty", account);
    }
    LinkedHashMap<String, List<Integer>> byKey = new LinkedHashMap<>();
    for (int i = 0; i < changes.size(); i++) {
      Envelope.Change change = changes.get(i);
      if (!change.object()) {
        return new Decoded.Rejected("invalid-event", "body.changes[" + i + "] is not an object", account);
      }
      String key = type.equals(MESSAGING) ? MESSAGING + "." + change.eventType() : type;
      if (!WebhookKeys.ALL.contains(key)) {
        return new Decoded.Rejected("unknown-type", "body.changes[" + i + "].event.type " + quoted(change.eventType())
            + " is not a known event type (one of " + MESSAGING_EVENT_TYPES + ")", account);
      }
      byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
    }
    Source source = new Source(record.topic(), record.partition(), record.offset(), record.timestamp());
    return new Decoded.Accepted(new Event(account, value, byKey, source));
  }

  private static String accountOf(ConsumerRecord<byte[], byte[]> record) {
    Header header = record.headers().lastHeader(ACCOUNT_HEADER);
    if (header == null || header.value() == null) {
      return "";
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(header.value())).toString().trim();
    } catch (CharacterCodingException e) {
      return "";
    }
  }

  /**
   * {@code text} from a record, in single quotes, for an error that is logged and kept in a dead letter: one line (control
   * characters become '?') and at most {@link #QUOTED_MAX_CHARS} characters, so a record cannot forge log lines or
   * carry its content into them.
   */
  static String quoted(String text) {
    StringBuilder quoted = new StringBuilder(Math.min(text.length(), QUOTED_MAX_CHARS) + 8).append('\'');
    for (int i = 0; i < text.length() && i < QUOTED_MAX_CHARS; i++) {
      char c = text.charAt(i);
      quoted.append(Character.isISOControl(c) ? '?' : c);
    }
    return quoted.append(text.length() > QUOTED_MAX_CHARS ? "'..." : "'").toString();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
