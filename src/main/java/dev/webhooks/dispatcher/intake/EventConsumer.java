package dev.webhooks.dispatcher.intake;

import dev.webhooks.dispatcher.delivery.Source;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka consumer of the events topics, on a thread of its own (a KafkaConsumer is single-threaded and its calls
 * block, so it is wrapped once, here, away from the event loops).
 *
 * <p>It polls, decodes, and hands batches to a {@link Sink}. Pause, resume and commits requested from other threads
 * are queued and run on the polling thread between polls. Rebalances call the sink synchronously, so a revoked
 * partition's final offsets are committed before another instance takes it over.
 */
public final class EventConsumer {
  private static final Logger LOG = LoggerFactory.getLogger(EventConsumer.class);
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
  private static final Duration REVOKE_TIMEOUT = Duration.ofSeconds(10);

  /** Where polled records go. {@link #accept} runs on the polling thread and must hand off quickly. */
  public interface Sink {
    void accept(List<Incoming> batch);

    /** Stops the partitions and returns, per partition, the offset that is final and safe to commit. */
    CompletableFuture<Map<TopicPartition, Long>> revoke(Collection<TopicPartition> partitions);

    /** The partitions are gone without a chance to commit (the group moved on); drop their state. */
    void lose(Collection<TopicPartition> partitions);
  }

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final List<String> topics;
  private final EventDecoder decoder;
  private final Sink sink;
  private final LinkedBlockingQueue<Consumer<KafkaConsumer<byte[], byte[]>>> commands = new LinkedBlockingQueue<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private final Thread thread;
  private volatile boolean fetching = true;
  private volatile boolean running = true;

  public EventConsumer(KafkaConsumer<byte[], byte[]> consumer, List<String> topics, EventDecoder decoder, Sink sink) {
    this.consumer = consumer;
    this.topics = List.copyOf(topics);
    this.decoder = decoder;
    this.sink = sink;
    this.thread = new Thread(this::run, "event-consumer");
  }

  /**
   * The settings this consumer relies on: commits are ours (the contiguous watermark), a new group starts from the
   * beginning so nothing published before the first start is skipped, cooperative rebalancing lets the partitions
   * that stay put keep delivering while others move, and a crashed instance's partitions move on after 10 s instead
   * of the default 45 s (heartbeats come from the client's own thread, so a busy instance is never mistaken for dead).
   */
  public static Map<String, Object> consumerConfig(String bootstrapServers, String group, int maxPollRecords) {
    return Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.GROUP_ID_CONFIG, group,
        ConsumerConfig.CLIENT_ID_CONFIG, "webhook-events",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords,
        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName(),
        ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
  }

  public void start() {
    thread.start();
  }

  public void pause(Collection<TopicPartition> partitions) {
    submit(c -> c.pause(owned(c, partitions)));
  }

  public void resume(Collection<TopicPartition> partitions) {
    submit(c -> c.resume(owned(c, partitions)));
  }

  /** Commits asynchronously; offsets of partitions this consumer no longer owns are dropped. */
  public void commit(Map<TopicPartition, Long> offsets) {
    submit(c -> c.commitAsync(owned(c, offsets), this::logCommitFailure));
  }

  /** Stops fetching new records; the group membership stays so in-flight work can still be committed. */
  public void stopFetching() {
    fetching = false;
  }

  /** Commits the final offsets synchronously, leaves the group and ends the thread. */
  public CompletableFuture<Void> close(Map<TopicPartition, Long> finalOffsets) {
    submit(
        c -> {
          try {
            Map<TopicPartition, OffsetAndMetadata> offsets = owned(c, finalOffsets);
            if (!offsets.isEmpty()) {
              c.commitSync(offsets, Duration.ofSeconds(5));
            }
          } catch (KafkaException e) {
            LOG.warn("Final commit failed; the uncommitted records will be delivered again", e);
          }
          running = false;
        });
    return stopped;
  }

  private void submit(Consumer<KafkaConsumer<byte[], byte[]>> command) {
    commands.add(command);
  }

  private void run() {
    try {
      consumer.subscribe(topics, new Rebalance());
      while (running) {
        runCommands();
        if (!running) {
          break;
        }
        if (fetching) {
          poll();
        } else {
          Consumer<KafkaConsumer<byte[], byte[]>> command = commands.poll(POLL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
          if (command != null) {
            command.accept(consumer);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("The event consumer stopped unexpectedly", e);
    } finally {
      closeQuietly();
      stopped.complete(null);
    }
  }

  private void poll() throws InterruptedException {
    ConsumerRecords<byte[], byte[]> records;
    try {
      records = consumer.poll(POLL_TIMEOUT);
    } catch (WakeupException e) {
      return;
    } catch (KafkaException e) {
      LOG.warn("Polling failed, retrying in 1 s: {}", e.toString());
      Thread.sleep(1000);
      return;
    }
    if (records.isEmpty()) {
      return;
    }
    List<Incoming> batch = new ArrayList<>(records.count());
    for (ConsumerRecord<byte[], byte[]> record : records) {
      Source source = new Source(record.topic(), record.partition(), record.offset(), record.timestamp());
      batch.add(new Incoming(source, decoder.decode(record), record.value() == null ? new byte[0] : record.value()));
    }
    sink.accept(batch);
  }

  private void runCommands() {
    Consumer<KafkaConsumer<byte[], byte[]>> command;
    while ((command = commands.poll()) != null) {
      try {
        command.accept(consumer);
      } catch (KafkaException | IllegalStateException e) {
        LOG.warn("A consumer command failed: {}", e.toString());
      }
    }
  }

  private void closeQuietly() {
    try {
      consumer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      LOG.warn("Closing the consumer failed", e);
    }
  }

  private void logCommitFailure(Map<TopicPartition, OffsetAndMetadata> offsets, Exception e) {
    if (e != null) {
      LOG.warn("Commit of {} failed; those records may be delivered again: {}", offsets.keySet(), e.toString());
    }
  }

  private static List<TopicPartition> owned(KafkaConsumer<?, ?> consumer, Collection<TopicPartition> partitions) {
    return partitions.stream().filter(consumer.assignment()::contains).toList();
  }

  private static Map<TopicPartition, OffsetAndMetadata> owned(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> offsets) {
    Map<TopicPartition, OffsetAndMetadata> owned = new HashMap<>();
    offsets.forEach(
        (partition, offset) -> {
          if (consumer.assignment().contains(partition)) {
            owned.put(partition, new OffsetAndMetadata(offset));
          }
        });
    return owned;
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        LOG.info("Assigned {}", partitions);
      }
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (partitions.isEmpty()) {
        return;
      }
      LOG.info("Revoked {}", partitions);
      try {
        Map<TopicPartition, Long> finalOffsets = sink.revoke(partitions).get(REVOKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, OffsetAndMetadata> offsets = owned(consumer, finalOffsets);
        if (!offsets.isEmpty()) {
          consumer.commitSync(offsets, Duration.ofSeconds(5));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Exception e) {
        LOG.warn("Could not commit revoked partitions {}; their records may be delivered again", partitions, e);
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      LOG.warn("Lost {} without a commit; their records may be delivered again", partitions);
      sink.lose(partitions);
    }
  }
}
