package dev.webhooks.dispatcher.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.ConfigException;
import dev.webhooks.dispatcher.config.KafkaConnection;
import dev.webhooks.dispatcher.intake.Decoded;
import dev.webhooks.dispatcher.intake.EventDecoder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code publish --account ID [--key K] [--topic T] [--bootstrap HOST:PORT] FILE...}: sends each file's bytes, unchanged,
 * as one event record with the {@code account-id} header, keyed by the conversation it is about. It connects as the
 * service does, with the {@code KAFKA_CLIENT_*} settings of the environment (TLS, SASL). A file the dispatcher's own
 * decoder would dead-letter (not JSON, an unknown event type, over {@code MAX_EVENT_BYTES}) is published all the same,
 * as a producer's would be, with a warning on stderr. Exit 0 when every record was acknowledged, 1 when a file or the
 * broker failed, 2 on a bad command line, {@code KAFKA_CLIENT_*} setting or {@code MAX_EVENT_BYTES}.
 */
public final class PublishCommand {
  public static final String USAGE =
      "publish --account ACCOUNT_ID [--key CONVERSATION_ID] [--topic TOPIC] [--bootstrap HOST:PORT] FILE...";
  /** Long enough for a broker that is up, short enough that a wrong address fails while the user is still looking. */
  public static final Duration TIMEOUT = Duration.ofSeconds(10);

  private static final Set<String> OPTIONS = Set.of("account", "key", "topic", "bootstrap");
  private static final ObjectMapper JSON = new ObjectMapper();

  private PublishCommand() {}

  /**
   * Runs the command; {@code env} supplies {@code KAFKA_BOOTSTRAP_SERVERS} and {@code EVENTS_TOPICS} defaults and the
   * {@code KAFKA_CLIENT_*} settings.
   */
  public static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    Flags flags = Flags.parse(args, OPTIONS);
    String account =
        flags.option("account").filter(a -> !a.isBlank()).orElseThrow(() -> new UsageException("--account is required"));
    if (flags.positional().isEmpty()) {
      throw new UsageException("name at least one event file to publish");
    }
    String bootstrap = flags.option("bootstrap").or(() -> nonBlank(env.get("KAFKA_BOOTSTRAP_SERVERS"))).orElse("localhost:9092");
    String topic = flags.option("topic").or(() -> firstTopic(env.get("EVENTS_TOPICS"))).orElse("messaging-events");
    KafkaConnection kafka;
    EventDecoder decoder;
    try {
      kafka = new KafkaConnection(bootstrap, Config.kafkaClientSettings(env));
      decoder = new EventDecoder(Config.maxEventBytes(env));
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return Commands.USAGE_ERROR;
    }

    List<Event> events = new ArrayList<>();
    for (String file : flags.positional()) {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(Path.of(file));
      } catch (NoSuchFileException e) {
        err.println("publish: " + file + ": no such file");
        return 1;
      } catch (IOException | RuntimeException e) {
        err.println("publish: " + file + ": cannot be read: " + e.getMessage());
        return 1;
      }
      rejection(decoder, topic, account, bytes).ifPresent(rejected -> err.println("warning: " + file
          + ": the dispatcher will dead-letter this event as " + rejected.reason() + " (" + rejected.error()
          + "), not deliver it; publishing it anyway"));
      events.add(new Event(file, bytes));
    }
    try {
      requireTopic(kafka, topic);
      send(kafka, topic, account, flags.option("key"), events, out);
      return 0;
    } catch (PublishException e) {
      err.println(e.getMessage());
      return 1;
    }
  }

  /** The conversation an event is about: {@code conversationId}, or {@code result.convId}, of its first change. */
  public static Optional<String> conversationKey(byte[] value) {
    try {
      JsonNode change = JSON.readTree(value).path("body").path("changes").path(0);
      JsonNode id = change.hasNonNull("conversationId") ? change.get("conversationId") : change.path("result").path("convId");
      return id.isTextual() && !id.asText().isBlank() ? Optional.of(id.asText()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Why the dispatcher would dead-letter {@code value} published so, in its decoder's own words, or empty when it would
   * route it. One decoder judges both, so the warning cannot disagree with what the service does.
   */
  static Optional<Decoded.Rejected> rejection(EventDecoder decoder, String topic, String account, byte[] value) {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(topic, 0, 0L, null, value);
    record.headers().add(EventDecoder.ACCOUNT_HEADER, account.getBytes(StandardCharsets.UTF_8));
    return decoder.decode(record) instanceof Decoded.Rejected rejected ? Optional.of(rejected) : Optional.empty();
  }

  private static void requireTopic(KafkaConnection kafka, String topic) {
    String bootstrap = kafka.bootstrapServers();
    Map<String, Object> settings = kafka.clientConfig(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis(),
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis()));
    try (Admin admin = Admin.create(settings)) {
      admin.describeTopics(Set.of(topic)).allTopicNames().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        throw new PublishException("topic '" + topic + "' does not exist at " + bootstrap
            + " (start the dispatcher once to create its topics, or pass --topic)");
      }
      throw unreachable(bootstrap, e.getCause());
    } catch (TimeoutException | KafkaException e) {
      throw unreachable(bootstrap, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PublishException("interrupted");
    }
  }

  private static void send(
      KafkaConnection kafka, String topic, String account, Optional<String> key, List<Event> events, PrintStream out) {
    String bootstrap = kafka.bootstrapServers();
    Map<String, Object> settings = kafka.clientConfig(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ProducerConfig.CLIENT_ID_CONFIG, "webhook-dispatcher-publish",
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis(),
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis() / 2,
            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis(),
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(settings)) {
      for (Event event : events) {
        String recordKey = key.or(() -> conversationKey(event.bytes())).orElse(null);
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, recordKey, event.bytes());
        record.headers().add(EventDecoder.ACCOUNT_HEADER, account.getBytes(StandardCharsets.UTF_8));
        RecordMetadata sent = producer.send(record).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        out.printf(
            "%s -> topic %s, partition %d, offset %d (account %s, key %s, %d bytes)%n",
            event.file(), sent.topic(), sent.partition(), sent.offset(), account,
            recordKey == null ? "none" : recordKey, event.bytes().length);
      }
    } catch (ExecutionException e) {
      throw unreachable(bootstrap, e.getCause());
    } catch (TimeoutException | KafkaException e) {
      throw unreachable(bootstrap, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PublishException("interrupted");
    }
  }

  /**
   * Names the root cause: Kafka's wrappers ("Failed to create new KafkaAdminClient") hide what the user can fix, such as
   * a host that does not resolve. "Within 10 s" only when it is time that ran out.
   */
  private static PublishException unreachable(String bootstrap, Throwable failure) {
    boolean timedOut = false;
    String rootMessage = null;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      timedOut |= t instanceof TimeoutException || t instanceof org.apache.kafka.common.errors.TimeoutException;
      rootMessage = t.getMessage() == null ? rootMessage : t.getMessage();
    }
    return new PublishException("cannot publish to Kafka at " + bootstrap
        + (timedOut ? " within " + TIMEOUT.toSeconds() + " s" : "") + (rootMessage == null ? "" : " (" + rootMessage + ")")
        + "; is the dispatcher or your broker running? Set --bootstrap or KAFKA_BOOTSTRAP_SERVERS.");
  }

  private static Optional<String> nonBlank(String value) {
    return Optional.ofNullable(value).map(String::trim).filter(v -> !v.isEmpty());
  }

  private static Optional<String> firstTopic(String topics) {
    return nonBlank(topics).flatMap(t -> Arrays.stream(t.split(",")).map(String::trim).filter(s -> !s.isEmpty()).findFirst());
  }

  private record Event(String file, byte[] bytes) {}

  /** An expected failure, reported as one line and exit code 1. */
  private static final class PublishException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PublishException(String message) {
      super(message, null, false, false);
    }
  }
}
