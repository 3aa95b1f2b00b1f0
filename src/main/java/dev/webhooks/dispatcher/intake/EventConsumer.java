package dev.webhooks.dispatcher.intake;

import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.delivery.Source;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka consumer of the events topics, on a thread of its own (a KafkaConsumer is single-threaded and its calls
 * block, so it is wrapped once, here, away from the event loops).
 *
 * <p>It polls, decodes, and hands batches to a {@link Sink}. It also enforces the cap on records in flight per
 * partition, here where records enter: a partition whose handed-over records are not yet released reaches the cap
 * is paused before the next poll, and resumed once half of them are released. (Enforced by the event loop instead,
 * the cap would lag behind a busy loop while this thread kept polling.) A retry due later than
 * {@link #RETRY_HANDOVER_AHEAD} from now is not handed over: its partition is rewound to it and paused until it is due
 * (or for the longest retry delay, if it is due later than that), so a retry waits in Kafka, and in memory for no
 * longer than that. A retry topic's records wait about as long as each other, so they come due roughly in the order
 * they were written. Commits requested from other threads are queued and run on the polling thread between polls.
 * Rebalances call the sink synchronously, so a revoked partition's final offsets are committed before another
 * instance takes it over.
 */
public final class EventConsumer implements Committer {
  private static final Logger LOG = LoggerFactory.getLogger(EventConsumer.class);
  private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
  private static final Duration REVOKE_TIMEOUT = Duration.ofSeconds(10);
  /**
   * How long the broker may hold a fetch that finds no data. One fetch to a broker is in flight at a time, and it asks
   * for every partition with nothing buffered, often only empty retry partitions: with Kafka's default of 500 ms, the
   * events partitions behind it ran dry and a backlog drained 25% slower.
   */
  private static final Duration FETCH_MAX_WAIT = Duration.ofMillis(50);
  /**
   * A retry due within this long is handed over now, with those before it; the courier waits out the rest. Jitter makes
   * a retry topic's records come due only roughly in order, so rewinding to each next one not yet due fetched its
   * partition again for every few records. In the load test's {@code isolation} the polling thread then spent a third
   * of its time reading from the broker, and the dispatcher collected garbage 574-622 times (28-31 full) against
   * 209-214 (8) now. A held partition is now fetched again at most about once per this long.
   */
  static final Duration RETRY_HANDOVER_AHEAD = Duration.ofSeconds(1);
  /**
   * How many records of a partition may lie between its commit watermark and the last one handed over, as a multiple of
   * the in-flight cap. Records that end behind one that has not are no longer in flight but still wait to be committed
   * (a ticket each, about 40 bytes): without a bound, one record that never ends (its account's installations
   * unreadable, a dead letter Kafka keeps refusing) would let them pile up without end while its partition flows on.
   * At 100 times the cap (100,000 by default, about 4 MB), a partition of records that end within seconds never
   * reaches it.
   */
  static final int UNCOMMITTED_PER_IN_FLIGHT = 100;
  /** Kafka's default {@code max.poll.interval.ms}: kept unless the drain needs longer. */
  private static final Duration DEFAULT_MAX_POLL_INTERVAL = Duration.ofMinutes(5);
  /**
   * What a drain takes besides its grace without a poll: the last poll's hand-off, the lanes' close and the final
   * commit (5 s at most), with room to spare.
   */
  private static final Duration DRAIN_OVERHEAD = Duration.ofSeconds(30);

  /** Where polled records go. {@link #accept} runs on the polling thread and must hand off quickly. */
  public interface Sink {
    void accept(List<Incoming> batch);

    /** Stops the partitions and returns, per partition, the offset that is final and safe to commit. */
    CompletableFuture<Map<TopicPartition, Long>> revoke(Collection<TopicPartition> partitions);

    /** The partitions are gone without a chance to commit (the group moved on); drop their state. */
    void lose(Collection<TopicPartition> partitions);
  }

  private final Consumer<byte[], byte[]> consumer;
  private final String group;
  private final List<String> topics;
  private final EventDecoder decoder;
  private final Sink sink;
  private final LinkedBlockingQueue<Command> commands = new LinkedBlockingQueue<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private final Thread thread;
  private final int maxInFlightPerPartition;
  /** Per assigned partition, its records handed over and not yet released; the map is this thread's alone. */
  private final Map<TopicPartition, AtomicInteger> inFlight = new HashMap<>();
  /** Per assigned partition, the offset after the last record handed over; this thread's alone. */
  private final Map<TopicPartition, Long> handedUpTo = new HashMap<>();
  /**
   * Per assigned partition, its commit watermark as its lane last sent it to be committed, or the first offset handed
   * over before it sent one; this thread's alone.
   */
  private final Map<TopicPartition, Long> watermarks = new HashMap<>();
  /** Partitions paused now, for the in-flight cap or a retry not yet due. */
  private final Set<TopicPartition> paused = new HashSet<>();
  /**
   * Partitions at the in-flight cap or at {@link #UNCOMMITTED_PER_IN_FLIGHT} times it uncommitted, until both are down
   * to half.
   */
  private final Set<TopicPartition> capped = new HashSet<>();
  /** Capped partitions with {@link #UNCOMMITTED_PER_IN_FLIGHT} times the cap uncommitted, logged once each time. */
  private final Set<TopicPartition> stalled = new HashSet<>();
  /** Retry partitions rewound to a retry that is not due yet, with its due time by this consumer's clock. */
  private final Map<TopicPartition, Long> heldUntil = new HashMap<>();
  /**
   * Per retry partition, how far ahead of this consumer's clock the retries written by a fast clock are due, as learnt
   * from the last one held for {@link #longestRetryWait} alone; see {@link #dueAt}.
   */
  private final Map<TopicPartition, Long> leads = new HashMap<>();
  private final Duration longestRetryWait;
  private volatile boolean fetching = true;
  private volatile boolean running = true;
  /** The failure that keeps polls failing and the service not ready, until a poll succeeds; null when none. */
  private volatile ConsumerFailure.Blocking blocked;
  /** Polls that failed since the last that did not: the pause before the next grows with them. */
  private int failuresInARow;
  /** No poll before this ({@link System#nanoTime}), after a failure. */
  private long pollNotBefore = System.nanoTime();
  /** The blocking commit failure last logged, so a commit retried every tick does not log it every tick. */
  private ConsumerFailure.Blocking commitBlocked;

  /** Work for the polling thread, the only one that may touch the consumer. */
  private interface Command {
    void run(Consumer<byte[], byte[]> consumer);
  }

  /**
   * @param longestRetryWait the longest a retry this service writes waits ({@code RETRY_MAX_DELAY_MS} with jitter): one
   *     due later than that from when it is read was written by an instance whose clock ran ahead, and waits no longer
   */
  public EventConsumer(Consumer<byte[], byte[]> consumer, List<String> topics, EventDecoder decoder, Sink sink,
      int maxInFlightPerPartition, Duration longestRetryWait) {
    this.consumer = consumer;
    this.longestRetryWait = longestRetryWait;
    this.group = consumer.groupMetadata().groupId();
    this.maxInFlightPerPartition = maxInFlightPerPartition;
    this.topics = List.copyOf(topics);
    this.decoder = decoder;
    this.sink = sink;
    this.thread = new Thread(this::run, "event-consumer");
  }

  /**
   * The settings this consumer relies on: commits are ours (the contiguous watermark), a new group starts from the
   * beginning so nothing published before the first start is skipped, cooperative rebalancing lets the partitions
   * that stay put keep delivering while others move, and a crashed instance's partitions move on after 10 s instead
   * of the default 45 s (heartbeats come from the client's own thread, so a busy instance is never mistaken for dead),
   * and a fetch that finds nothing returns after {@link #FETCH_MAX_WAIT}. A drain does not poll: the group must not
   * take the partitions away while it delivers and commits, so the time allowed between polls outlasts {@code
   * drainGrace} ({@code SHUTDOWN_GRACE_MS}) and what the drain does after it.
   */
  public static Map<String, Object> consumerConfig(String bootstrapServers, String group, int maxPollRecords,
      Duration drainGrace) {
    return Map.ofEntries(
        Map.entry(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
        Map.entry(ConsumerConfig.GROUP_ID_CONFIG, group),
        Map.entry(ConsumerConfig.CLIENT_ID_CONFIG, "webhook-events"),
        Map.entry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
        Map.entry(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
        Map.entry(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords),
        Map.entry(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName()),
        Map.entry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000),
        Map.entry(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, (int) maxPollInterval(drainGrace).toMillis()),
        Map.entry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, (int) FETCH_MAX_WAIT.toMillis()),
        Map.entry(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class),
        Map.entry(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
  }

  /** The longest time between polls before the group takes the partitions away: more than a whole drain. */
  static Duration maxPollInterval(Duration drainGrace) {
    Duration drain = drainGrace.plus(DRAIN_OVERHEAD);
    return drain.compareTo(DEFAULT_MAX_POLL_INTERVAL) > 0 ? drain : DEFAULT_MAX_POLL_INTERVAL;
  }

  public void start() {
    thread.start();
  }

  /** Commits asynchronously; offsets of partitions this consumer no longer owns are dropped. */
  @Override
  public void commit(Map<TopicPartition, Long> offsets, java.util.function.Consumer<Set<TopicPartition>> failed) {
    submit(c -> {
      Map<TopicPartition, OffsetAndMetadata> owned = owned(c, offsets);
      owned.forEach((partition, watermark) -> watermarks.put(partition, watermark.offset()));
      c.commitAsync(owned, (committed, e) -> {
        if (e != null) {
          logCommitFailure(committed, e);
          failed.accept(committed.keySet());
        } else {
          commitBlocked = null;
        }
      });
    });
  }

  /**
   * Stops fetching new records; the group membership stays so in-flight work can still be committed. The result
   * completes once the polling thread is between polls: every record it will ever hand over has been handed to the
   * sink by then, so whoever closes the sink next sees them all.
   */
  public CompletableFuture<Void> stopFetching() {
    fetching = false;
    CompletableFuture<Void> between = new CompletableFuture<>();
    submit(c -> between.complete(null));
    stopped.thenRun(() -> between.complete(null)); // a thread that has ended hands nothing over any more
    return between;
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

  /** Whether the polling thread still runs: once it has stopped, nothing is consumed or committed any more. */
  public boolean isRunning() {
    return !stopped.isDone();
  }

  /**
   * Whether polls are failing for a reason that needs someone to act ({@link ConsumerFailure.Blocking}): nothing is
   * consumed until it is fixed, and the next poll that succeeds clears it.
   */
  public boolean isBlocked() {
    return blocked != null;
  }

  private void submit(Command command) {
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
        long pause = pollNotBefore - System.nanoTime();
        if (fetching && pause <= 0) {
          applyPauses();
          poll();
        } else { // waits for a command, which ends the wait: a commit or a stop is not held up by a pause
          Command command = commands.poll(fetching ? pause : POLL_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
          if (command != null) {
            execute(command);
          }
        }
      }
    } catch (InterruptedException e) {
      if (running) {
        LOG.error("The event consumer was interrupted and stopped; the service is not ready any more");
      }
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.error("The event consumer stopped unexpectedly; the service is not ready any more", e);
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
    } catch (InterruptException e) {
      throw new InterruptedException("interrupted while polling");
    } catch (KafkaException e) {
      pollFailed(ConsumerFailure.of(e, group));
      return;
    }
    polled();
    if (records.isEmpty()) {
      return;
    }
    List<Incoming> batch = new ArrayList<>(records.count());
    long now = System.currentTimeMillis();
    long handOverBefore = now + RETRY_HANDOVER_AHEAD.toMillis();
    for (TopicPartition partition : records.partitions()) {
      AtomicInteger counter = inFlight.computeIfAbsent(partition, p -> new AtomicInteger());
      long handedBefore = -1;
      for (ConsumerRecord<byte[], byte[]> record : records.records(partition)) {
        Decoded decoded = decoder.decode(record);
        long due = decoded instanceof Decoded.Retrying retrying ? dueAt(partition, retrying.retry(), now) : 0;
        if (due > handOverBefore) {
          consumer.seek(partition, record.offset()); // read again once it is due
          heldUntil.put(partition, due);
          break;
        }
        Source source = new Source(record.topic(), record.partition(), record.offset(), record.timestamp());
        byte[] value = record.value() == null ? new byte[0] : record.value();
        counter.incrementAndGet();
        if (handedBefore == -1) {
          watermarks.putIfAbsent(partition, record.offset());
        }
        handedBefore = record.offset() + 1;
        batch.add(new Incoming(source, decoded, value, counter));
      }
      if (handedBefore != -1) {
        handedUpTo.put(partition, handedBefore);
      }
    }
    if (!batch.isEmpty()) {
      sink.accept(batch);
    }
  }

  /**
   * When {@code retry}, read from {@code partition}, is due by this consumer's clock. Its {@code due-at} is its writer's
   * wall-clock time, and no retry waits longer than {@link #longestRetryWait}: one due later than that from now was
   * written by a clock that ran ahead. Held until then, it would hold up every retry behind it. It is held for that
   * long at most instead, and its lead beyond that is learnt and taken off the retries due that far ahead after it, so
   * that a run of them from that writer waits about as long as each meant to, not that long each.
   */
  private long dueAt(TopicPartition partition, Retry retry, long now) {
    long latest = now + longestRetryWait.toMillis();
    if (retry.dueAtMillis() <= latest) {
      return retry.dueAtMillis(); // as written: from a clock in step with this one, or only a little ahead
    }
    long due = retry.dueAtMillis() - leads.getOrDefault(partition, 0L);
    if (due <= latest) {
      return due;
    }
    leads.put(partition, retry.dueAtMillis() - latest);
    LOG.warn("Retry {} in {} is due at {}, more than the longest retry delay ({} ms) from now: its writer's clock may"
        + " be ahead; it is tried within that delay", retry.webhookId(), partition,
        Instant.ofEpochMilli(retry.dueAtMillis()), longestRetryWait.toMillis());
    return latest;
  }

  private void pollFailed(ConsumerFailure failure) {
    failuresInARow++;
    Duration pause = failure.pause(failuresInARow);
    pollNotBefore = System.nanoTime() + pause.toNanos();
    if (failure instanceof ConsumerFailure.Blocking blocking) {
      if (!blocking.equals(blocked)) {
        LOG.error("The event consumer cannot consume, and the service is not ready until this is fixed: {}. Trying"
            + " again every {} s at most.", blocking.cause(), ConsumerFailure.MAX_BLOCKED_PAUSE.toSeconds());
      } else {
        LOG.debug("Still failing, trying again in {} ms: {}", pause.toMillis(), blocking.cause());
      }
      blocked = blocking;
    } else {
      LOG.warn("Polling failed, retrying in {} ms: {}", pause.toMillis(), failure.cause());
    }
  }

  private void polled() {
    failuresInARow = 0;
    ConsumerFailure.Blocking was = blocked;
    if (was != null) {
      blocked = null;
      LOG.info("The event consumer polls again; ready once the rest is (it had failed: {})", was.cause());
    }
  }

  /**
   * Pauses the partitions at the in-flight cap (or with {@link #UNCOMMITTED_PER_IN_FLIGHT} times that uncommitted) or
   * holding a retry not yet due, and resumes the others: a capped one once both are down to half, a held one once its
   * retry is due.
   */
  private void applyPauses() {
    long now = System.currentTimeMillis();
    heldUntil.values().removeIf(due -> due <= now);
    long maxUncommitted = (long) maxInFlightPerPartition * UNCOMMITTED_PER_IN_FLIGHT;
    inFlight.forEach((partition, count) -> {
      int n = count.get();
      long uncommitted = handedUpTo.getOrDefault(partition, 0L) - watermarks.getOrDefault(partition, 0L);
      boolean overdue = uncommitted >= maxUncommitted;
      if (n >= maxInFlightPerPartition || overdue) {
        capped.add(partition);
        if (overdue && stalled.add(partition)) {
          LOG.warn("Paused {}: {} of its records wait to be committed behind one at offset {} that has not ended",
              partition, uncommitted, watermarks.get(partition));
        }
      } else if (n <= maxInFlightPerPartition / 2 && uncommitted <= maxUncommitted / 2) {
        capped.remove(partition);
        stalled.remove(partition);
      }
    });
    Set<TopicPartition> wanted = new HashSet<>(capped);
    wanted.addAll(heldUntil.keySet());
    List<TopicPartition> pause = wanted.stream().filter(p -> !paused.contains(p)).toList();
    List<TopicPartition> resume = paused.stream().filter(p -> !wanted.contains(p)).toList();
    if (!pause.isEmpty()) {
      consumer.pause(pause);
    }
    if (!resume.isEmpty()) {
      consumer.resume(resume);
    }
    paused.clear();
    paused.addAll(wanted);
  }

  /** A partition that left this consumer starts afresh if it comes back: new count, not paused, not held. */
  private void forget(Collection<TopicPartition> partitions) {
    partitions.forEach(partition -> {
      inFlight.remove(partition);
      handedUpTo.remove(partition);
      watermarks.remove(partition);
      paused.remove(partition);
      capped.remove(partition);
      stalled.remove(partition);
      heldUntil.remove(partition);
      leads.remove(partition);
    });
  }

  private void runCommands() {
    Command command;
    while ((command = commands.poll()) != null) {
      execute(command);
    }
  }

  private void execute(Command command) {
    try {
      command.run(consumer);
    } catch (KafkaException | IllegalStateException e) {
      LOG.warn("A consumer command failed: {}", e.toString());
    }
  }

  private void closeQuietly() {
    try {
      consumer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      LOG.warn("Closing the consumer failed", e);
    }
  }

  /** A blocking cause is logged as an ERROR once, not at every commit tick that retries it. */
  private void logCommitFailure(Map<TopicPartition, OffsetAndMetadata> offsets, Exception e) {
    ConsumerFailure failure = e instanceof KafkaException kafka ? ConsumerFailure.of(kafka, group) : null;
    if (failure instanceof ConsumerFailure.Blocking blocking) {
      if (!blocking.equals(commitBlocked)) {
        LOG.error("Commits fail, so records may be delivered again: {}", blocking.cause());
      }
      commitBlocked = blocking;
    } else {
      LOG.warn("Commit of {} failed; those records may be delivered again: {}", offsets.keySet(), e.toString());
    }
  }

  private static List<TopicPartition> owned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
    return partitions.stream().filter(consumer.assignment()::contains).toList();
  }

  private static Map<TopicPartition, OffsetAndMetadata> owned(Consumer<?, ?> consumer, Map<TopicPartition, Long> offsets) {
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
      } finally {
        forget(partitions);
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      LOG.warn("Lost {} without a commit; their records may be delivered again", partitions);
      forget(partitions);
      sink.lose(partitions);
    }
  }
}
