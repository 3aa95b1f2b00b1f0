package dev.webhooks.dispatcher.delivery;

import dev.webhooks.dispatcher.config.KafkaConnection;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes dead letters to the dead-letter topic and retries to the retry topic of their tier, with one Kafka producer
 * (acks=all, idempotent). A dead letter's key is the client id (none for intake failures), its value the body, its
 * headers the names of DESIGN 1.3, UTF-8; a retry's record is {@link Retry#toRecord}. Each future completes on the
 * broker's acknowledgement, on the caller's Vert.x context. The producer's {@code send} may block (while it fetches a
 * topic's metadata, or for up to a minute while its buffer is full because the broker is away), so one thread of the
 * outbox's own calls it, in order. On Vert.x's worker pool, blocked writes would hold the threads that resolve
 * endpoints' hosts.
 */
public final class KafkaOutbox implements Outbox {
  /** How long {@link #close} lets the producer flush what it still holds. */
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final Producer<byte[], byte[]> producer;
  private final ExecutorService sending = Executors.newSingleThreadExecutor(task -> {
    Thread thread = new Thread(task, "webhook-outbox-send");
    thread.setDaemon(true);
    return thread;
  });
  private final String deadLetterTopic;
  /** The retry topics, tier 1 first. */
  private final List<String> retryTopics;

  public KafkaOutbox(Vertx vertx, Producer<byte[], byte[]> producer, String deadLetterTopic, List<String> retryTopics) {
    this.vertx = vertx;
    this.producer = producer;
    this.deadLetterTopic = deadLetterTopic;
    this.retryTopics = List.copyOf(retryTopics);
  }

  /**
   * An outbox with its own producer, which sends records of up to {@code maxRecordBytes} ({@code
   * Config.maxRecordBytes}); construct it off the event loop (the producer starts threads).
   */
  public static KafkaOutbox create(Vertx vertx, KafkaConnection kafka, String deadLetterTopic,
      List<String> retryTopics, int maxRecordBytes) {
    return new KafkaOutbox(vertx,
        new KafkaProducer<>(kafka.clientConfig(producerConfig(kafka.bootstrapServers(), maxRecordBytes))),
        deadLetterTopic, retryTopics);
  }

  /** Durable, ordered and free of duplicates from producer retries; a buffer that holds two of its largest records. */
  public static Map<String, Object> producerConfig(String bootstrapServers, int maxRecordBytes) {
    return Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.CLIENT_ID_CONFIG, "webhook-outbox",
        ProducerConfig.LINGER_MS_CONFIG, 5,
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRecordBytes,
        ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(32L * 1024 * 1024, 2L * maxRecordBytes),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
  }

  @Override
  public Future<Void> deadLetter(DeadLetter deadLetter) {
    return send(record(deadLetterTopic, deadLetter));
  }

  @Override
  public Future<Void> retry(Retry retry, int tier) {
    return send(retry.toRecord(retryTopics.get(Math.min(Math.max(tier, 1), retryTopics.size()) - 1)));
  }

  private Future<Void> send(ProducerRecord<byte[], byte[]> record) {
    Context caller = vertx.getOrCreateContext();
    Promise<Void> acked = Promise.promise();
    Callback completion = (metadata, error) -> caller.runOnContext(v -> {
      if (error == null) {
        acked.tryComplete();
      } else {
        acked.tryFail(neverFits(error) ? new TooLarge(error.getMessage(), error) : error);
      }
    });
    try {
      sending.execute(() -> {
        try {
          producer.send(record, completion);
        } catch (RuntimeException refused) { // closed, or interrupted while blocked: the callback will not run
          completion.onCompletion(null, refused);
        }
      });
    } catch (RejectedExecutionException closed) {
      return Future.failedFuture(new IllegalStateException("the outbox is closed", closed));
    }
    return acked.future();
  }

  /**
   * The producer refuses a record over {@code max.request.size} or its buffer, the broker one over the topic's {@code
   * max.message.bytes}: the same record fails again however often it is sent.
   */
  static boolean neverFits(Throwable error) {
    return error instanceof RecordTooLargeException || error instanceof RecordBatchTooLargeException;
  }

  /** Lets the writes already handed over reach the producer, then flushes and closes it, on a worker. */
  public Future<Void> close() {
    return vertx.executeBlocking(() -> {
      sending.shutdown();
      sending.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      producer.close(CLOSE_GRACE);
      return null;
    });
  }

  /** The Kafka record of a dead letter: the one place that spells the header names. */
  static ProducerRecord<byte[], byte[]> record(String topic, DeadLetter letter) {
    List<Header> headers =
        List.of(
            header("account-id", letter.accountId()),
            header("client-id", letter.clientId()),
            header("webhook-key", letter.webhookKey()),
            header("webhook-id", letter.webhookId()),
            header("endpoint", letter.endpoint()),
            header("attempts", Integer.toString(letter.attempts())),
            header("last-status", letter.lastStatus().isPresent() ? "" + letter.lastStatus().getAsInt() : ""),
            header("reason", letter.reason()),
            header("error", letter.error().replaceAll("[\\r\\n]+", " ")),
            header("source", letter.source().toString()));
    byte[] key = letter.clientId().isEmpty() ? null : letter.clientId().getBytes(StandardCharsets.UTF_8);
    return new ProducerRecord<>(topic, null, key, Bodies.array(letter.value()), headers);
  }

  private static Header header(String name, String value) {
    return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
