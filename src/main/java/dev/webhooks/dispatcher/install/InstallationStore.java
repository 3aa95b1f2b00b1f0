package dev.webhooks.dispatcher.install;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The installations, kept in the compacted installations topic and in memory. Every instance reads the whole topic
 * (no consumer group) on a dedicated thread and follows it live; a write completes once this instance's view has
 * applied it, so the writer can serve it at once. Reads never block.
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

  private final Vertx vertx;
  private final String topic;
  private final SecretCipher cipher;
  private final Clock clock;
  private final KafkaProducer<String, byte[]> producer;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Thread reader;
  private final Promise<Void> caughtUp = Promise.promise();
  private final Promise<Void> stopped = Promise.promise();
  private volatile boolean caughtUpFlag;
  private volatile boolean closing;
  private volatile boolean started;

  private final ConcurrentHashMap<String, Loaded> byId = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, List<Installation>> byAccount = new ConcurrentHashMap<>();

  /** Guards {@link #applied} and {@link #waiters}: the reader's positions and the writes waiting for them. */
  private final Object lock = new Object();
  private final Map<TopicPartition, Long> applied = new HashMap<>();
  private final List<Waiter> waiters = new ArrayList<>();

  private record Loaded(StoredInstallation stored, Installation installation) {}

  private record Waiter(TopicPartition partition, long offset, Context context, Promise<Void> promise) {}

  public InstallationStore(Vertx vertx, String bootstrapServers, String topic, SecretCipher cipher) {
    this(vertx, bootstrapServers, topic, cipher, Clock.systemUTC());
  }

  public InstallationStore(Vertx vertx, String bootstrapServers, String topic, SecretCipher cipher, Clock clock) {
    this.vertx = vertx;
    this.topic = topic;
    this.cipher = cipher;
    this.clock = clock;
    this.producer = new KafkaProducer<>(producerConfig(bootstrapServers), new StringSerializer(),
        new ByteArraySerializer());
    this.consumer = new KafkaConsumer<>(consumerConfig(bootstrapServers), new StringDeserializer(),
        new ByteArrayDeserializer());
    this.reader = new Thread(this::read, "installations-reader");
    this.reader.setDaemon(true);
  }

  /** Starts following the topic; the future is {@link #caughtUp()}. */
  public Future<Void> start() {
    started = true;
    reader.start();
    return caughtUp();
  }

  /** Completes once the view has read every record that was in the topic when it started. */
  public Future<Void> caughtUp() {
    return caughtUp.future();
  }

  /** Whether the view has caught up and is still following the topic (false again once the reader stopped). */
  public boolean isCaughtUp() {
    return caughtUpFlag;
  }

  @Override
  public List<Installation> installationsOf(String accountId) {
    return byAccount.getOrDefault(accountId, List.of());
  }

  @Override
  public Optional<Installation> find(String installationId) {
    return Optional.ofNullable(byId.get(installationId)).map(Loaded::installation);
  }

  /** The record as stored (sealed secrets, revision), for changes that build the next revision from it. */
  public Optional<StoredInstallation> stored(String installationId) {
    return Optional.ofNullable(byId.get(installationId)).map(Loaded::stored);
  }

  /** Installations by state ({@code enabled}, {@code disabled}), for the {@code webhook_installations} gauge. */
  public Map<String, Long> countsByState() {
    long enabled = byId.values().stream().filter(l -> l.installation().enabled()).count();
    return Map.of("enabled", enabled, "disabled", byId.size() - enabled);
  }

  /** Writes an installation's new state; completes with it once this instance serves it. */
  public Future<Installation> write(String id, StoredInstallation record) {
    return produce(id, record.toJson())
        .map(ignored -> find(id).orElseThrow(() -> new IllegalStateException(
            "installation " + id + " was written but this view could not load it; see the reader's log")));
  }

  /** Deletes an installation (a tombstone); completes once this instance no longer serves it. */
  public Future<Void> delete(String id) {
    return produce(id, null);
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
    return stopped.future();
  }

  private Future<Void> produce(String id, byte[] value) {
    if (closing) {
      return Future.failedFuture(new IllegalStateException("the installation store is closed"));
    }
    Context context = vertx.getOrCreateContext();
    Promise<RecordMetadata> sent = Promise.promise();
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, id, value);
    // send() can block on metadata or a full buffer, so it runs on a worker; the callback runs on the producer's thread.
    return vertx.executeBlocking(() -> producer.send(record, (metadata, error) -> context.runOnContext(v -> {
          if (error != null) {
            sent.fail(error);
          } else {
            sent.complete(metadata);
          }
        })), false)
        .compose(ignored -> sent.future())
        .compose(metadata -> applied(new TopicPartition(metadata.topic(), metadata.partition()), metadata.offset(),
            context))
        .timeout(WRITE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }

  /** Completes once the reader's position in the partition is past the offset. */
  private Future<Void> applied(TopicPartition partition, long offset, Context context) {
    Promise<Void> promise = Promise.promise();
    synchronized (lock) {
      if (applied.getOrDefault(partition, 0L) <= offset) {
        waiters.add(new Waiter(partition, offset, context, promise));
        return promise.future();
      }
    }
    return Future.succeededFuture();
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
        for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
          apply(record);
        }
        Map<TopicPartition, Long> positions;
        try {
          positions = positions(partitions);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
          LOG.warn("Kafka did not answer for the positions in {}; retrying", topic);
          continue;
        }
        advance(positions);
        if (!caughtUpFlag && reached(positions, end)) {
          caughtUpFlag = true;
          LOG.info("Installations view caught up: {} installations", byId.size());
          caughtUp.tryComplete();
        }
        if (System.nanoTime() - nextRecheck > 0) {
          partitions = addNewPartitions(partitions);
          nextRecheck = System.nanoTime() + PARTITION_RECHECK.toNanos();
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

  /** The topic's partitions, waiting while it does not exist yet (another component creates it). */
  private List<TopicPartition> awaitPartitions() throws InterruptedException {
    while (!closing) {
      try {
        List<PartitionInfo> infos = consumer.partitionsFor(topic);
        if (infos != null && !infos.isEmpty()) {
          return infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        }
        LOG.info("Waiting for the installations topic {} to exist", topic);
      } catch (org.apache.kafka.common.errors.TimeoutException e) {
        LOG.warn("Kafka did not answer for the installations topic {}; retrying", topic);
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
      remove(id);
      return;
    }
    try {
      StoredInstallation stored = StoredInstallation.fromJson(record.value());
      index(id, new Loaded(stored, stored.open(id, cipher, clock.instant().getEpochSecond())));
    } catch (RuntimeException e) {
      LOG.error("Skipping installation {} at {}-{}@{} that cannot be loaded: {}", id, record.topic(),
          record.partition(), record.offset(), e.getMessage());
    }
  }

  /** Only the reader thread changes the indexes; account lists are immutable and replaced whole. */
  private void index(String id, Loaded loaded) {
    Loaded previous = byId.put(id, loaded);
    if (previous != null && !previous.stored().accountId().equals(loaded.stored().accountId())) {
      unlist(previous.stored().accountId(), id);
    }
    byAccount.compute(loaded.stored().accountId(), (account, list) -> {
      List<Installation> next = new ArrayList<>(list == null ? List.of() : list);
      next.removeIf(i -> i.id().equals(id));
      next.add(loaded.installation());
      return List.copyOf(next);
    });
  }

  private void remove(String id) {
    Loaded previous = byId.remove(id);
    if (previous != null) {
      unlist(previous.stored().accountId(), id);
    }
  }

  private void unlist(String accountId, String id) {
    byAccount.computeIfPresent(accountId, (account, list) -> {
      List<Installation> next = list.stream().filter(i -> !i.id().equals(id)).toList();
      return next.isEmpty() ? null : next;
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

  /** Publishes the reader's positions and releases the writes they cover. */
  private void advance(Map<TopicPartition, Long> positions) {
    List<Waiter> done = new ArrayList<>();
    synchronized (lock) {
      applied.putAll(positions);
      waiters.removeIf(w -> positions.getOrDefault(w.partition(), 0L) > w.offset() && done.add(w));
    }
    done.forEach(w -> w.context().runOnContext(v -> w.promise().tryComplete()));
  }

  private void shutDown() {
    caughtUpFlag = false;
    List<Waiter> pending;
    synchronized (lock) {
      pending = List.copyOf(waiters);
      waiters.clear();
    }
    IllegalStateException closed = new IllegalStateException("the installation store closed before applying it");
    pending.forEach(w -> w.context().runOnContext(v -> w.promise().tryFail(closed)));
    caughtUp.tryFail(closed);
    try {
      consumer.close(Duration.ofSeconds(5));
    } finally {
      producer.close(Duration.ofSeconds(5));
      stopped.tryComplete();
    }
  }

  private static Map<String, Object> producerConfig(String bootstrapServers) {
    return Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.CLIENT_ID_CONFIG, "installations-writer",
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.LINGER_MS_CONFIG, 0,
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
  }

  private static Map<String, Object> consumerConfig(String bootstrapServers) {
    return Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.CLIENT_ID_CONFIG, "installations-reader",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
  }
}
