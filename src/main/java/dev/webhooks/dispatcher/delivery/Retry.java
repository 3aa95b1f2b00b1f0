package dev.webhooks.dispatcher.delivery;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * A delivery waiting in the retry topic for its next attempt. Handing a failed delivery to the topic lets its source
 * record commit at once, so a slow or dead endpoint never pins a partition of the events topic for its whole retry
 * schedule. The record carries what identifies the delivery and the exact body; the app's secrets, headers and
 * endpoint are looked up again when the retry is due, so an update or uninstall in between is honoured.
 *
 * @param attempts attempts made so far: 0 only for a delivery deferred before its first attempt
 * @param deferrals times the delivery was deferred so far, its attempt held back for want of a free connection (see
 *     {@link RetryPolicy#defers}); a record written before deferrals existed has none
 * @param dueAtMillis epoch millis before which the next attempt must not start
 * @param source the events record the delivery comes from (its webhook id and dead letter name it)
 */
public record Retry(
    String accountId,
    String clientId,
    String webhookKey,
    String webhookId,
    String endpoint,
    int attempts,
    int deferrals,
    long dueAtMillis,
    OptionalInt lastStatus,
    String lastError,
    Source source,
    Buffer body) {

  public Retry {
    if (attempts < 0 || deferrals < 0 || attempts + deferrals == 0) {
      throw new IllegalArgumentException("a retry follows an attempt or a deferral, not " + attempts + " attempts and "
          + deferrals + " deferrals");
    }
  }

  /**
   * The retry of {@code delivery} after its attempt number {@code attempts} ended in {@code last}, or, when {@code
   * last} held the attempt back, with {@code attempts} made before it; {@code deferrals} counts that one.
   */
  static Retry of(Delivery delivery, int attempts, int deferrals, long dueAtMillis, DeliveryOutcome last) {
    return new Retry(delivery.app().accountId(), delivery.app().clientId(), delivery.webhookKey(), delivery.webhookId(),
        delivery.webhook().endpoint(), attempts, deferrals, dueAtMillis, last.status(), Outcomes.errorOf(last),
        delivery.source(), delivery.body());
  }

  /** The dead letter of a retry that can no longer be made (the app was uninstalled, disabled or changed). */
  public DeadLetter abandoned(String reason, String error) {
    return new DeadLetter(accountId, clientId, webhookKey, webhookId, endpoint, attempts, lastStatus, reason, error,
        source, body);
  }

  /** The Kafka record: key the client id (one app's retries stay together), value the body, the rest as headers. */
  public ProducerRecord<byte[], byte[]> toRecord(String topic) {
    List<Header> headers = List.of(
        header("account-id", accountId),
        header("client-id", clientId),
        header("webhook-key", webhookKey),
        header("webhook-id", webhookId),
        header("endpoint", endpoint),
        header("attempts", Integer.toString(attempts)),
        header("deferrals", Integer.toString(deferrals)),
        header("due-at", Long.toString(dueAtMillis)),
        header("last-status", lastStatus.isPresent() ? Integer.toString(lastStatus.getAsInt()) : ""),
        header("error", lastError.replaceAll("[\\r\\n]+", " ")),
        header("source", source.toString()),
        header("source-timestamp", Long.toString(source.timestamp())));
    return new ProducerRecord<>(topic, null, clientId.getBytes(StandardCharsets.UTF_8), Bodies.array(body), headers);
  }

  /**
   * Reads a record of the retry topic. A record without a {@code deferrals} header (written before deferrals existed)
   * was never deferred.
   *
   * @throws IllegalArgumentException naming the header that is missing or malformed
   */
  public static Retry fromRecord(ConsumerRecord<byte[], byte[]> record) {
    Map<String, String> h = new HashMap<>();
    for (Header header : record.headers()) {
      h.put(header.key(), header.value() == null ? "" : new String(header.value(), StandardCharsets.UTF_8));
    }
    int attempts = (int) number(h, "attempts", 0, 1_000);
    int deferrals = h.containsKey("deferrals") ? (int) number(h, "deferrals", 0, 1_000) : 0;
    String lastStatus = h.getOrDefault("last-status", "");
    return new Retry(
        required(h, "account-id"),
        required(h, "client-id"),
        required(h, "webhook-key"),
        required(h, "webhook-id"),
        h.getOrDefault("endpoint", ""),
        attempts,
        deferrals,
        number(h, "due-at", 0, Long.MAX_VALUE),
        lastStatus.isEmpty() ? OptionalInt.empty() : OptionalInt.of((int) number(h, "last-status", 100, 999)),
        h.getOrDefault("error", ""),
        source(required(h, "source"), number(h, "source-timestamp", Long.MIN_VALUE, Long.MAX_VALUE)),
        Bodies.of(record.value() == null ? new byte[0] : record.value()));
  }

  private static Source source(String text, long timestamp) {
    int offsetAt = text.lastIndexOf('/');
    int partitionAt = offsetAt < 0 ? -1 : text.lastIndexOf('/', offsetAt - 1);
    if (partitionAt <= 0) {
      throw new IllegalArgumentException("header 'source' is not topic/partition/offset: '" + text + "'");
    }
    try {
      return new Source(text.substring(0, partitionAt), Integer.parseInt(text.substring(partitionAt + 1, offsetAt)),
          Long.parseLong(text.substring(offsetAt + 1)), timestamp);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("header 'source' is not topic/partition/offset: '" + text + "'");
    }
  }

  private static String required(Map<String, String> headers, String name) {
    String value = headers.get(name);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("retry record has no '" + name + "' header");
    }
    return value;
  }

  private static long number(Map<String, String> headers, String name, long min, long max) {
    String value = required(headers, name);
    try {
      long n = Long.parseLong(value);
      if (n < min || n > max) {
        throw new IllegalArgumentException("header '" + name + "' is out of range: " + value);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("header '" + name + "' is not a number: '" + value + "'");
    }
  }

  private static Header header(String name, String value) {
    return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
