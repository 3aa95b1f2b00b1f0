package dev.webhooks.dispatcher.install;

import dev.webhooks.dispatcher.config.KafkaConnection;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The installations, kept in the compacted installations topic and in memory. Every instance reads the whole topic
 * (no consumer group) on a dedicated thread and follows it live; a write completes once this instance's view has
 * applied it, so the writer can serve it at once. Reads never block.
 *
 * <p>A write names the state it was made from, and is written only if that is still the installation's state, whichever
 * instance wrote in between ({@link #writeIf}). So the last record of an installation is always its state, which is
 * what compaction keeps.
 *
 * <p>An installation whose secrets this instance's key cannot open is never skipped: routing without it would take its
 * account's events for unrouted. It fails the start as a configuration error, and later holds routing of its account
 * ({@link UnreadableInstallations}), counted as {@code unreadable} in {@link #countsByState}.
 */
public final class InstallationStore implements InstallationView {
  private static final Logger LOG = LoggerFactory.getLogger(InstallationStore.class);
  private static final Duration POLL = Duration.ofMillis(200);
  /** Topics rarely grow; looking for new partitions this often keeps the metadata requests negligible. */
  private static final Duration PARTITION_RECHECK = Duration.ofSeconds(30);
  /** Back-off while the topic is missing or the broker does not answer, on the reader thread only. */
  private static final Duration RETRY = Duration.ofMillis(500);
  /** Longer than the producer's delivery timeout: a write that took this long will not be seen by this view. */
  private static final long WRITE_TIMEOUT_MS = 45_000;
  /** Writes of different installations run side by side; installs are rare, a few threads are plenty. */
  private static final int WRITER_THREADS = 4;

  /** Distinct client ids per store, so two stores in one JVM (tests) do not clash in JMX. */
  private static final AtomicInteger CLIENT_SEQUENCE = new AtomicInteger();

  private final Vertx vertx;
  private final String topic;
  private final SecretCipher cipher;
  private final Clock clock;
  /** The settings of the producers that write, one per write ({@link WriteTransaction}). */
  private final Map<String, Object> writerConfig;
  /** Where those producers block: threads of their own, not the pool that resolves endpoints for deliveries. */
  private final WorkerExecutor writers;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Thread reader;
  private final Promise<Void> caughtUp = Promise.promise();
  private final Promise<Void> stopped = Promise.promise();
  private volatile boolean caughtUpFlag;
  private volatile boolean closing;
  private volatile boolean started;

  private final InstallationIndex index = new InstallationIndex();
  private final UnreadableInstallations unreadable;
  private final AppliedOffsets applied = new AppliedOffsets();

  public InstallationStore(Vertx vertx, KafkaConnection kafka, String topic, SecretCipher cipher) {
    this(vertx, kafka, topic, cipher, Clock.systemUTC());
  }

  public InstallationStore(Vertx vertx, KafkaConnection kafka, String topic, SecretCipher cipher, Clock clock) {
    this.vertx = vertx;
    this.topic = topic;
    this.cipher = cipher;
    this.clock = clock;
    this.unreadable = new UnreadableInstallations(cipher.source(), cipher.keyId());
    String suffix = "-" + CLIENT_SEQUENCE.incrementAndGet();
    this.writerConfig = producerConfig(kafka, "installations-writer" + suffix);
    this.writers = vertx.createSharedWorkerExecutor("installations-writer" + suffix, WRITER_THREADS);
    this.consumer = new KafkaConsumer<>(
        committedOnly(consumerConfig(kafka, "installations-reader" + suffix)),
        new StringDeserializer(), new ByteArrayDeserializer());
    this.reader = new Thread(this::read, "installations-reader" + suffix);
    this.reader.setDaemon(true);
  }

  /** Starts following the topic; the future is {@link #caughtUp()}. */
  public Future<Void> start() {
    started = true;
    reader.start();
    return caughtUp();
  }

  /**
   * Completes once the view has read every record that was in the topic when it started; fails with a {@link
   * dev.webhooks.dispatcher.config.ConfigException} when some of them cannot be opened with this instance's key.
   */
  public Future<Void> caughtUp() {
    return caughtUp.future();
  }

  /**
   * Whether the view has caught up and is still following the topic (false again once the reader stopped): what
   * readiness needs of it. An installation it cannot read later does not count: it holds its account's routing only,
   * and an instance taken out of readiness for it would take the API that fixes it away too.
   */
  public boolean isCaughtUp() {
    return caughtUpFlag;
  }

  @Override
  public boolean isComplete() {
    return unreadable.isEmpty();
  }

  @Override
  public boolean isComplete(String accountId) {
    return unreadable.isEmpty() || !unreadable.affects(accountId);
  }

  @Override
  public long completenessChanges() {
    return unreadable.changes();
  }

  @Override
  public List<Installation> installationsOf(String accountId) {
    return index.installationsOf(accountId);
  }

  @Override
  public Optional<Installation> find(String installationId) {
    return index.find(installationId);
  }

  /** The record as stored (sealed secrets, revision), for changes that build the next revision from it. */
  public Optional<StoredInstallation> stored(String installationId) {
    return index.stored(installationId);
  }

  /**
   * Installations by state ({@code enabled}, {@code disabled}, and {@code unreadable}: written with another secrets key),
   * for the {@code webhook_installations} gauge.
   */
  public Map<String, Long> countsByState() {
    Map<String, Long> counts = new HashMap<>(index.countsByState());
    counts.put("unreadable", (long) unreadable.size());
    return counts;
  }

  /**
   * Writes an installation's new state if it is still {@code base} (empty: not installed); completes with the
   * installation as written once this instance serves it, or empty when another write came first and nothing was
   * written: read it again and decide anew.
   */
  public Future<Optional<Installation>> write(String id, Optional<StoredInstallation> base, StoredInstallation record) {
    return writeIf(id, base, record.toJson())
        .map(written -> written
            ? Optional.of(record.open(id, cipher, clock.instant().getEpochSecond()))
            : Optional.empty());
  }

  /**
   * Deletes an installation (a tombstone) if it is still {@code base}; completes with true once this instance no longer
   * serves it, or false when another write came first and nothing was deleted.
   */
  public Future<Boolean> delete(String id, StoredInstallation base) {
    return writeIf(id, Optional.of(base), null);
  }

  /** Stops the reader and closes the Kafka clients; pending writes fail. Never blocks the caller. */
  public Future<Void> close() {
    closing = true;
    if (started) {
      consumer.wakeup();
    } else if (!stopped.future().isComplete()) {
      vertx.executeBlocking(() -> {
        shutDown();
        return null;
      });
    }
    return stopped.future().eventually(writers::close);
  }

  /**
   * Appends {@code value} under {@code id} if the installation is still {@code base} once no other instance can write
   * it; completes with whether it did, once this view has applied it. The record is sent in a transaction that fences
   * every other instance's write of this installation ({@link WriteTransaction}); once this view has applied every
   * record before it, the state it was made from is compared with the current one: the transaction commits when they
   * are the same and aborts when another write came first, or when another instance fenced it meanwhile. Readers read
   * committed records only, so the log holds no write that lost.
   */
  private Future<Boolean> writeIf(String id, Optional<StoredInstallation> base, byte[] value) {
    if (closing) {
      return Future.failedFuture(new IllegalStateException("the installation store is closed"));
    }
    Context context = vertx.getOrCreateContext();
    return WriteTransaction.open(writers, writerConfig, topic, id)
        .compose(transaction -> transaction.send(new ProducerRecord<>(topic, id, value), context)
            .compose(sent -> commitIf(transaction, id, base, value, sent, context))
            .recover(e -> WriteTransaction.fenced(e)
                ? Future.succeededFuture(false)
                // never leave it open: it would hold every reader at its record until it times out
                : transaction.abort().transform(aborted -> Future.<Boolean>failedFuture(e)))
            .eventually(transaction::close))
        .timeout(WRITE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }

  private Future<Boolean> commitIf(WriteTransaction transaction, String id, Optional<StoredInstallation> base,
      byte[] value, RecordMetadata sent, Context context) {
    TopicPartition partition = new TopicPartition(sent.topic(), sent.partition());
    // Every write of this installation committed before this transaction opened lies before this record.
    return applied.applied(partition, sent.offset() - 1, context)
        .compose(before -> index.stored(id).equals(base)
            ? transaction.commit()
                .compose(committed -> applied.applied(partition, sent.offset(), context)).map(true)
                .recover(failed -> WriteTransaction.fenced(failed) ? Future.failedFuture(failed)
                    // The commit's outcome is unknown: the broker failed it (as it may while another instance's
                    // fencing is under way), or its answer was lost. The log decides: once this view is past the
                    // record, the transaction ended, and the record was applied or skipped.
                    : applied.applied(partition, sent.offset(), context).map(past -> holds(id, value)))
            : transaction.abort().map(false));
  }

  /** Whether the installation is now as {@code value} has it (null: not installed): this write's, or one the same. */
  private boolean holds(String id, byte[] value) {
    Optional<StoredInstallation> now = index.stored(id);
    return value == null ? now.isEmpty() : now.map(stored -> Arrays.equals(stored.toJson(), value)).orElse(false);
  }

  private void read() {
    try {
      List<TopicPartition> partitions = awaitPartitions();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      LOG.info("Reading installations from {} ({} partitions, {} records at most)", topic, partitions.size(),
          end.values().stream().mapToLong(Long::longValue).sum());
      long nextRecheck = System.nanoTime() + PARTITION_RECHECK.toNanos();
      while (!closing) {
        try {
          follow(partitions, end);
          if (System.nanoTime() - nextRecheck > 0) {
            partitions = addNewPartitions(partitions);
            nextRecheck = System.nanoTime() + PARTITION_RECHECK.toNanos();
          }
        } catch (RetriableException e) {
          LOG.warn("Kafka did not answer while following {}; retrying: {}", topic, e.getMessage());
        }
      }
    } catch (WakeupException e) {
      if (!closing) {
        LOG.error("Installations reader woken up unexpectedly; the view stops following {}", topic, e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.error("Installations reader failed; the view stops following {}", topic, e);
      caughtUp.tryFail(e);
    } finally {
      shutDown();
    }
  }

  /** One poll: apply its records, publish the positions, and note when the start-up end offsets are reached. */
  private void follow(List<TopicPartition> partitions, Map<TopicPartition, Long> end) {
    for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
      apply(record);
    }
    index.expire(clock.instant().getEpochSecond(), (id, stored) -> stored.open(id, cipher,
        clock.instant().getEpochSecond()));
    Map<TopicPartition, Long> positions = positions(partitions);
    applied.advance(positions);
    if (!caughtUpFlag && reached(positions, end)) {
      if (!unreadable.isEmpty()) {
        caughtUp.tryFail(unreadable.startUpError());
        return;
      }
      caughtUpFlag = true;
      LOG.info("Installations view caught up: {} installations", index.size());
      caughtUp.tryComplete();
    }
  }

  /** The topic's partitions, waiting while it does not exist yet (another component creates it). */
  private List<TopicPartition> awaitPartitions() throws InterruptedException {
    while (!closing) {
      try {
        List<PartitionInfo> infos = consumer.partitionsFor(topic);
        if (infos != null && !infos.isEmpty()) {
          return infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        }
        LOG.info("Waiting for the installations topic {} to exist", topic);
      } catch (RetriableException e) {
        LOG.warn("Kafka did not answer for the installations topic {}; retrying: {}", topic, e.getMessage());
      }
      Thread.sleep(RETRY.toMillis());
    }
    throw new WakeupException();
  }

  private List<TopicPartition> addNewPartitions(List<TopicPartition> current) {
    List<TopicPartition> all = consumer.partitionsFor(topic).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    List<TopicPartition> added = all.stream().filter(p -> !current.contains(p)).toList();
    if (added.isEmpty()) {
      return current;
    }
    LOG.info("Installations topic {} grew; now reading {}", topic, added);
    consumer.assign(all);
    consumer.seekToBeginning(added);
    return all;
  }

  private void apply(ConsumerRecord<String, byte[]> record) {
    String id = record.key();
    if (id == null) {
      LOG.warn("Skipping installation record without a key at {}-{}@{}", record.topic(), record.partition(),
          record.offset());
      return;
    }
    if (record.value() == null) {
      index.remove(id);
      readable(id);
      return;
    }
    try {
      StoredInstallation stored = StoredInstallation.fromJson(record.value());
      long now = clock.instant().getEpochSecond();
      Installation opened;
      try {
        opened = stored.open(id, cipher, now);
      } catch (SecretCipher.WrongKeyException e) {
        unreadable(id, stored.accountId(), record, stored.signingKeyIds(now));
        return;
      }
      index.put(stored, opened);
      readable(id);
    } catch (RuntimeException e) {
      LOG.error("Skipping installation {} at {}-{}@{} that cannot be loaded: {}", id, record.topic(),
          record.partition(), record.offset(), e.getMessage());
    }
  }

  /**
   * The installation's latest record cannot be opened with this key: its older version is not served (it is not the
   * installation's state any more), and its account's view is incomplete until a later record of it can be read. The
   * account is marked before the installation leaves the index: a lane that routed to nothing because it is gone then
   * sees the account held ({@link #isComplete(String)}) and waits, rather than take the event for unrouted.
   */
  private void unreadable(String id, String accountId, ConsumerRecord<String, byte[]> record, List<String> keyIds) {
    String where = record.topic() + "-" + record.partition() + "@" + record.offset();
    unreadable.add(id, accountId, where, keyIds);
    index.remove(id);
    if (caughtUpFlag) { // while catching up, the start fails with all of them at once
      LOG.error(unreadable.runtimeError(id, where));
    }
  }

  /** Called once the index has {@code id} as its latest record says (or not at all: deleted), never before. */
  private void readable(String id) {
    unreadable.remove(id).ifPresent(account -> {
      if (caughtUpFlag) {
        LOG.info("Installation {} can be read again: routing of account {} resumes{}", id, account,
            unreadable.affects(account) ? " once its other unreadable installations are too" : "");
      }
    });
  }

  private Map<TopicPartition, Long> positions(List<TopicPartition> partitions) {
    Map<TopicPartition, Long> positions = new HashMap<>();
    for (TopicPartition p : partitions) {
      positions.put(p, consumer.position(p));
    }
    return positions;
  }

  private static boolean reached(Map<TopicPartition, Long> positions, Map<TopicPartition, Long> end) {
    return end.entrySet().stream().allMatch(e -> positions.getOrDefault(e.getKey(), 0L) >= e.getValue());
  }

  private void shutDown() {
    caughtUpFlag = false;
    IllegalStateException closed = new IllegalStateException("the installation store closed before applying it");
    applied.failAll(closed);
    caughtUp.tryFail(closed);
    try {
      consumer.close(Duration.ofSeconds(5));
    } finally {
      stopped.tryComplete();
    }
  }

  /** Records of open and aborted transactions are never read: an aborted one is a write that lost. */
  private static Map<String, Object> committedOnly(Map<String, Object> config) {
    Map<String, Object> committed = new HashMap<>(config);
    committed.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return committed;
  }

  private static Map<String, Object> producerConfig(KafkaConnection kafka, String clientId) {
    return kafka.clientConfig(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.CLIENT_ID_CONFIG, clientId,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.LINGER_MS_CONFIG, 0,
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
  }

  private static Map<String, Object> consumerConfig(KafkaConnection kafka, String clientId) {
    return kafka.clientConfig(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.CLIENT_ID_CONFIG, clientId,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        // Never create the topic by looking for it: it must be created compacted, by whoever owns it.
        ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000));
  }
}
