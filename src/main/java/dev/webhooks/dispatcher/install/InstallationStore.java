package dev.webhooks.dispatcher.install;

import dev.webhooks.dispatcher.config.KafkaConnection;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
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

  /** Distinct client ids per store, so two stores in one JVM (tests) do not clash in JMX. */
  private static final AtomicInteger CLIENT_SEQUENCE = new AtomicInteger();

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

  private final InstallationIndex index = new InstallationIndex();
  private final AppliedOffsets applied = new AppliedOffsets();

  public InstallationStore(Vertx vertx, KafkaConnection kafka, String topic, SecretCipher cipher) {
    this(vertx, kafka, topic, cipher, Clock.systemUTC());
  }

  public InstallationStore(Vertx vertx, KafkaConnection kafka, String topic, SecretCipher cipher, Clock clock) {
    this.vertx = vertx;
    this.topic = topic;
    this.cipher = cipher;
    this.clock = clock;
    String suffix = "-" + CLIENT_SEQUENCE.incrementAndGet();
    this.producer = new KafkaProducer<>(producerConfig(kafka, "installations-writer" + suffix),
        new StringSerializer(), new ByteArraySerializer());
    this.consumer = new KafkaConsumer<>(consumerConfig(kafka, "installations-reader" + suffix),
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

  /** Installations by state ({@code enabled}, {@code disabled}), for the {@code webhook_installations} gauge. */
  public Map<String, Long> countsByState() {
    return index.countsByState();
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
        .compose(metadata -> applied.applied(new TopicPartition(metadata.topic(), metadata.partition()),
            metadata.offset(), context))
        .timeout(WRITE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
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
      return;
    }
    try {
      StoredInstallation stored = StoredInstallation.fromJson(record.value());
      index.put(stored, stored.open(id, cipher, clock.instant().getEpochSecond()));
    } catch (RuntimeException e) {
      LOG.error("Skipping installation {} at {}-{}@{} that cannot be loaded: {}", id, record.topic(),
          record.partition(), record.offset(), e.getMessage());
    }
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
      producer.close(Duration.ofSeconds(5));
      stopped.tryComplete();
    }
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
