package dev.webhooks.dispatcher;

import dev.webhooks.dispatcher.delivery.Courier;
import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.intake.Decoded;
import dev.webhooks.dispatcher.intake.EventConsumer;
import dev.webhooks.dispatcher.intake.Incoming;
import dev.webhooks.dispatcher.intake.OffsetTracker;
import dev.webhooks.dispatcher.ops.Metrics;
import dev.webhooks.dispatcher.routing.Router;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A record's journey: decoded (on the polling thread), routed, delivered by the courier, and marked final in its
 * partition's offset tracker, whose watermark is committed periodically. Records in flight are capped per partition:
 * a partition at the cap is paused until half of them are final.
 *
 * <p>All state lives on one Vert.x context; the consumer thread only hands batches over to it.
 */
public final class Dispatcher implements EventConsumer.Sink {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
  /** Often enough that a crash replays little, rarely enough that commits cost nothing measurable. */
  private static final Duration COMMIT_INTERVAL = Duration.ofMillis(200);

  private final Vertx vertx;
  private final Context context;
  private final Router router;
  private final Courier courier;
  private final Metrics metrics;
  private final int maxInFlightPerPartition;
  private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
  private final Set<TopicPartition> dirty = new HashSet<>();
  private EventConsumer consumer;
  private long commitTimer = -1;
  private int inFlight;

  /** Must be created on the context it will run on. */
  public Dispatcher(Vertx vertx, Router router, Courier courier, Metrics metrics, int maxInFlightPerPartition) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.router = router;
    this.courier = courier;
    this.metrics = metrics;
    this.maxInFlightPerPartition = maxInFlightPerPartition;
  }

  /** Starts consuming through the given consumer, which must have this dispatcher as its sink. */
  public void start(EventConsumer consumer) {
    this.consumer = consumer;
    commitTimer = vertx.setPeriodic(COMMIT_INTERVAL.toMillis(), id -> commitFinished());
    consumer.start();
  }

  @Override
  public void accept(List<Incoming> batch) {
    context.runOnContext(v -> batch.forEach(this::track));
  }

  @Override
  public CompletableFuture<Map<TopicPartition, Long>> revoke(Collection<TopicPartition> revoked) {
    CompletableFuture<Map<TopicPartition, Long>> result = new CompletableFuture<>();
    context.runOnContext(v -> result.complete(drop(revoked)));
    return result;
  }

  @Override
  public void lose(Collection<TopicPartition> lost) {
    context.runOnContext(v -> drop(lost));
  }

  /**
   * Stops fetching, lets in-flight deliveries finish for up to {@code grace}, commits what is final and closes the
   * consumer. Deliveries still waiting after the grace are abandoned uncommitted: another instance redelivers them.
   */
  public Future<Void> drain(Duration grace) {
    Promise<Void> promise = Promise.promise();
    context.runOnContext(
        v -> {
          consumer.stopFetching();
          long deadline = System.nanoTime() + grace.toNanos();
          waitForIdle(deadline).onComplete(done -> closeConsumer().onComplete(promise));
        });
    return promise.future();
  }

  private Future<Void> waitForIdle(long deadline) {
    if (inFlight == 0 || System.nanoTime() >= deadline) {
      if (inFlight > 0) {
        LOG.warn("{} records still in flight after the grace period; they stay uncommitted", inFlight);
      }
      return Future.succeededFuture();
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(50, id -> waitForIdle(deadline).onComplete(later));
    return later.future();
  }

  private Future<Void> closeConsumer() {
    vertx.cancelTimer(commitTimer);
    courier.close();
    Map<TopicPartition, Long> finalOffsets = new HashMap<>();
    partitions.forEach(
        (partition, state) -> {
          if (state.tracker.committable() >= 0) {
            finalOffsets.put(partition, state.tracker.committable());
          }
        });
    return Future.fromCompletionStage(consumer.close(finalOffsets), context);
  }

  private void track(Incoming incoming) {
    TopicPartition partition = new TopicPartition(incoming.source().topic(), incoming.source().partition());
    PartitionState state = partitions.computeIfAbsent(partition, PartitionState::new);
    OffsetTracker.Ticket ticket = state.tracker.track(incoming.source().offset());
    inFlight++;
    if (state.tracker.inFlight() >= maxInFlightPerPartition && !state.paused) {
      state.paused = true;
      consumer.pause(List.of(partition));
    }
    process(incoming).onComplete(done -> finish(state, ticket, done.succeeded()));
  }

  private Future<Void> process(Incoming incoming) {
    if (incoming.decoded() instanceof Decoded.Rejected rejected) {
      metrics.eventConsumed("rejected");
      return courier.deadLetter(rejectedLetter(incoming, rejected));
    }
    Decoded.Accepted accepted = (Decoded.Accepted) incoming.decoded();
    List<Delivery> deliveries;
    try {
      deliveries = router.route(accepted.event());
    } catch (RuntimeException bug) { // a record must never stall its partition, not even through a bug of ours
      LOG.error("Routing the record at {} failed; it becomes a dead letter", incoming.source(), bug);
      metrics.eventConsumed("rejected");
      Decoded.Rejected failed = new Decoded.Rejected("internal-error", "routing failed: " + bug, accepted.event().accountId());
      return courier.deadLetter(rejectedLetter(incoming, failed));
    }
    if (deliveries.isEmpty()) {
      metrics.eventConsumed("unrouted");
      return Future.succeededFuture();
    }
    metrics.eventConsumed("routed");
    List<Future<Void>> all = new ArrayList<>(deliveries.size());
    for (Delivery delivery : deliveries) {
      all.add(courier.deliver(delivery));
    }
    return Future.join(all).mapEmpty();
  }

  /**
   * A record's work ended. Only a final record (delivered, dead-lettered, unrouted) advances the watermark; one cut
   * short by shutdown stays open, so it is never committed and another instance delivers it again.
   */
  private void finish(PartitionState state, OffsetTracker.Ticket ticket, boolean isFinal) {
    inFlight--;
    if (isFinal) {
      ticket.done();
    }
    if (state.tracker.isRevoked()) {
      return;
    }
    dirty.add(state.partition);
    if (state.paused && state.tracker.inFlight() <= maxInFlightPerPartition / 2) {
      state.paused = false;
      consumer.resume(List.of(state.partition));
    }
  }

  private void commitFinished() {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    for (TopicPartition partition : dirty) {
      PartitionState state = partitions.get(partition);
      if (state != null && state.tracker.committable() > state.committed) {
        state.committed = state.tracker.committable();
        offsets.put(partition, state.committed);
      }
    }
    dirty.clear();
    if (!offsets.isEmpty()) {
      consumer.commit(offsets);
    }
  }

  private Map<TopicPartition, Long> drop(Collection<TopicPartition> gone) {
    Map<TopicPartition, Long> finalOffsets = new HashMap<>();
    for (TopicPartition partition : gone) {
      PartitionState state = partitions.remove(partition);
      dirty.remove(partition);
      if (state != null && state.tracker.revoke() >= 0) {
        finalOffsets.put(partition, state.tracker.committable());
      }
    }
    return finalOffsets;
  }

  private static DeadLetter rejectedLetter(Incoming incoming, Decoded.Rejected rejected) {
    return new DeadLetter(
        rejected.accountId(), "", "", "", "", 0, OptionalInt.empty(), rejected.reason(), rejected.error(),
        incoming.source(), Buffer.buffer(incoming.value()));
  }

  /** One partition's offsets, pause state and last commit. */
  private static final class PartitionState {
    final TopicPartition partition;
    final OffsetTracker tracker = new OffsetTracker();
    boolean paused;
    long committed = -1;

    PartitionState(TopicPartition partition) {
      this.partition = partition;
    }
  }
}
