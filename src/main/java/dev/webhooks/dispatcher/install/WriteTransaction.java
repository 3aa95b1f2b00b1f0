package dev.webhooks.dispatcher.install;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka transaction that writes one installation's record. Every instance writes an installation under the same
 * transactional id (the topic and the installation id), so opening a transaction fences any other instance's open one
 * on that installation: the coordinator aborts it, and it can no longer commit. The producer blocks (up to its
 * {@code max.block.ms} while the coordinator is away), so every step runs on the installation writers' own workers,
 * never on the pool that resolves endpoints' hosts for deliveries, and completes on the caller's context.
 */
final class WriteTransaction {
  private static final Logger LOG = LoggerFactory.getLogger(WriteTransaction.class);
  /**
   * A writer that dies with its transaction open holds every reader of the topic at its record until the coordinator
   * aborts it; a write keeps its transaction open for well under a second.
   */
  static final int TIMEOUT_MS = 10_000;
  private static final Duration CLOSE = Duration.ofSeconds(5);
  /** Distinct client ids per transaction, so that their producers do not clash in JMX. */
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private final WorkerExecutor workers;
  private final KafkaProducer<String, byte[]> producer;
  /** Set by {@link #commit}, on the caller's context; the steps of one transaction follow each other. */
  private boolean committing;

  private WriteTransaction(WorkerExecutor workers, KafkaProducer<String, byte[]> producer) {
    this.workers = workers;
    this.producer = producer;
  }

  /**
   * Opens a transaction on installation {@code id} of {@code topic}, fencing any other open one on it.
   *
   * @param config the writer's producer settings (idempotent, {@code acks=all}); its client id gets a suffix
   */
  static Future<WriteTransaction> open(WorkerExecutor workers, Map<String, Object> config, String topic,
      String id) {
    Map<String, Object> own = new HashMap<>(config);
    own.put(ProducerConfig.CLIENT_ID_CONFIG,
        config.get(ProducerConfig.CLIENT_ID_CONFIG) + "-" + SEQUENCE.incrementAndGet());
    own.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(topic, id));
    own.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, TIMEOUT_MS);
    return workers.executeBlocking(() -> {
      KafkaProducer<String, byte[]> producer =
          new KafkaProducer<>(own, new StringSerializer(), new ByteArraySerializer());
      try {
        producer.initTransactions();
        producer.beginTransaction();
        return new WriteTransaction(workers, producer);
      } catch (RuntimeException e) {
        producer.close(Duration.ZERO);
        throw e;
      }
    }, false);
  }

  /** Ids cannot hold a {@code /} ({@link Credentials}), so no two installations, or topics, share one. */
  static String transactionalId(String topic, String id) {
    return topic + "/" + id;
  }

  /** Sends {@code record} in this transaction; completes on {@code context} with where the log put it. */
  Future<RecordMetadata> send(ProducerRecord<String, byte[]> record, Context context) {
    Promise<RecordMetadata> sent = Promise.promise();
    // send() can block on metadata or a full buffer; its callback runs on the producer's thread.
    return workers.executeBlocking(() -> producer.send(record, (metadata, error) -> context.runOnContext(v -> {
          if (error != null) {
            sent.fail(error);
          } else {
            sent.complete(metadata);
          }
        })), false)
        .compose(ignored -> sent.future());
  }

  Future<Void> commit() {
    committing = true;
    return workers.executeBlocking(() -> {
      producer.commitTransaction();
      return null;
    }, false);
  }

  /**
   * Aborts the transaction, unless a commit was tried: then it may still land (a commit that timed out goes on), and
   * Kafka refuses to abort it, so the write's outcome stays what the commit's failure says.
   */
  Future<Void> abort() {
    if (committing) {
      return Future.succeededFuture();
    }
    return workers.executeBlocking(() -> {
      producer.abortTransaction();
      return null;
    }, false);
  }

  /** Closes the producer; a failure is logged, as the transaction has ended (or been fenced) already. */
  Future<Void> close() {
    return workers.<Void>executeBlocking(() -> {
      producer.close(CLOSE);
      return null;
    }, false).onFailure(e -> LOG.warn("Closing an installations writer failed: {}", e.getMessage()));
  }

  /**
   * Whether {@code failure} means that this transaction was aborted for another: an instance opened one on the same
   * installation, or this one outlived {@link #TIMEOUT_MS}. Nothing it sent will be read.
   */
  static boolean fenced(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
        return true;
      }
    }
    return false;
  }
}
