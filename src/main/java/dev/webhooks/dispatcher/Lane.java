package dev.webhooks.dispatcher;

import dev.webhooks.dispatcher.delivery.Bodies;
import dev.webhooks.dispatcher.delivery.Courier;
import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.intake.Decoded;
import dev.webhooks.dispatcher.intake.Committer;
import dev.webhooks.dispatcher.intake.Incoming;
import dev.webhooks.dispatcher.intake.OffsetTracker;
import dev.webhooks.dispatcher.ops.Metrics;
import dev.webhooks.dispatcher.routing.Router;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One delivery lane: a Vert.x verticle on an event loop of its own that takes its share of the partitions through
 * their whole journey: routed, delivered by its own courier, and marked final in the partition's offset tracker, whose
 * watermark it commits periodically. Partitions of the retry topics go the same way: a retry arrives once it is due,
 * and its record stays uncommitted until the retry is final. Each record is released when its work ends, which is
 * what the consumer's per-partition in-flight cap counts. All of a lane's state is confined to its context: no locks.
 */
final class Lane extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(Lane.class);
  /** Often enough that a crash replays little, rarely enough that commits cost nothing measurable. */
  private static final Duration COMMIT_INTERVAL = Duration.ofMillis(200);
  /**
   * How often a lane whose records wait for their account's installations looks again. The wait lasts until an operator
   * acts, so a second more is nothing, and one timer per lane costs nothing either.
   */
  private static final Duration ROUTABLE_RECHECK = Duration.ofSeconds(1);

  private final Router router;
  private final Courier courier;
  private final Metrics metrics;
  private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
  private final Set<TopicPartition> dirty = new HashSet<>();
  private volatile Committer committer;
  private long commitTimer = -1;
  /**
   * The accounts whose records wait in this lane until the router can route them again, each with its records in the
   * order they came; empty almost always, which is what the hot path checks.
   */
  private final Map<String, List<Held>> holds = new HashMap<>();
  /** The held accounts whose wait was logged (an unreadable installation), so that their resumption is logged too. */
  private final Set<String> announced = new HashSet<>();
  private long holdsTimer = -1;
  private int inFlight;

  Lane(Router router, Courier courier, Metrics metrics) {
    this.router = router;
    this.courier = courier;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    commitTimer = vertx.setPeriodic(COMMIT_INTERVAL.toMillis(), id -> commitFinished());
    return Future.succeededFuture();
  }

  /** The consumer that commits for this lane; set before any record arrives. */
  void attach(Committer committer) {
    this.committer = committer;
  }

  /** Takes records of this lane's partitions, in partition order. */
  void accept(List<Incoming> records) {
    context.runOnContext(v -> records.forEach(this::track));
  }

  /** Drops the partitions this lane holds among {@code revoked}; the result is what is final and safe to commit. */
  CompletableFuture<Map<TopicPartition, Long>> revoke(Collection<TopicPartition> revoked) {
    CompletableFuture<Map<TopicPartition, Long>> result = new CompletableFuture<>();
    context.runOnContext(v -> result.complete(drop(revoked)));
    return result;
  }

  void lose(Collection<TopicPartition> lost) {
    context.runOnContext(v -> drop(lost));
  }

  /**
   * Lets in-flight records finish until {@code deadlineNanos}, then closes the courier (what still waits is abandoned,
   * not final) and answers each partition's final offset to commit.
   */
  Future<Map<TopicPartition, Long>> finish(long deadlineNanos) {
    Promise<Map<TopicPartition, Long>> result = Promise.promise();
    context.runOnContext(v -> waitForIdle(deadlineNanos).onComplete(idle -> {
      vertx.cancelTimer(commitTimer);
      vertx.cancelTimer(holdsTimer); // records still waiting to be routed stay open: never delivered, never committed
      courier.close();
      Map<TopicPartition, Long> finalOffsets = new HashMap<>();
      partitions.forEach((partition, state) -> {
        if (state.tracker.committable() >= 0) {
          finalOffsets.put(partition, state.tracker.committable());
        }
      });
      result.complete(finalOffsets);
    }));
    return result.future();
  }

  /** Until nothing is in flight but the records held for their account, which no wait would finish. */
  private Future<Void> waitForIdle(long deadline) {
    int held = held();
    if (inFlight == held || System.nanoTime() >= deadline) {
      if (held > 0) {
        LOG.warn("{} records wait for their account's installations to be readable; they stay uncommitted", held);
      }
      if (inFlight > held) {
        LOG.warn("{} records still in flight after the grace period; they stay uncommitted", inFlight - held);
      }
      return Future.succeededFuture();
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(50, id -> waitForIdle(deadline).onComplete(later));
    return later.future();
  }

  private void track(Incoming incoming) {
    TopicPartition partition = new TopicPartition(incoming.source().topic(), incoming.source().partition());
    long offset = incoming.source().offset();
    PartitionState state = partitions.computeIfAbsent(partition, PartitionState::new);
    if (!state.tracker.follows(offset)) { // what follows is read again: its old reads must never commit
      LOG.warn("Partition {} went back to offset {}; its records from there are delivered again", partition, offset);
      state.tracker.revoke();
      releaseRevoked();
      state = new PartitionState(partition);
      partitions.put(partition, state);
    }
    PartitionState tracked = state;
    OffsetTracker.Ticket ticket = tracked.tracker.track(offset);
    inFlight++;
    // the hot path: nothing held here and every installation readable, one cheap check each
    Future<Void> work = holds.isEmpty() && router.canRoute() ? process(incoming, tracked) : processOrHold(incoming,
        tracked);
    work.onComplete(done -> onLane(() -> ended(tracked, ticket, incoming, done.succeeded())));
  }

  /**
   * Holds a record whose account the router cannot route now, or whose account has records held here already: it
   * waits behind them, so a partition's records of one account are still processed in order once routing resumes.
   */
  private Future<Void> processOrHold(Incoming incoming, PartitionState state) {
    String account = accountOf(incoming);
    if (account != null && (holds.containsKey(account) || !router.canRoute(account))) {
      return hold(account, incoming, state);
    }
    return process(incoming, state);
  }

  /**
   * Completes with the record's work once the router can route its account again ({@link Router#canRoute(String)}).
   * Meanwhile it waits here, in flight and uncommitted: the consumer's per-partition cap pauses its partition once
   * enough wait, so an event is neither taken for unrouted nor lost, only late; other accounts' records go on. A record
   * whose partition is revoked meanwhile (or read again from an earlier offset) ends then, not final, and is never
   * processed here: another reader owns it now ({@link #releaseRevoked}).
   */
  private Future<Void> hold(String account, Incoming incoming, PartitionState state) {
    List<Held> waiting = holds.get(account);
    if (waiting == null) {
      waiting = new ArrayList<>();
      holds.put(account, waiting);
      if (!router.canRoute(account) && announced.add(account)) { // else it was routed as an app changed: a look again
        LOG.warn("Events of account {} wait until its installations can be read; they stay uncommitted meanwhile",
            account);
      }
      if (holdsTimer == -1) {
        holdsTimer = vertx.setPeriodic(ROUTABLE_RECHECK.toMillis(), id -> resumeRoutable());
      }
    }
    Promise<Void> letGo = Promise.promise();
    waiting.add(new Held(state, letGo));
    return letGo.future().compose(v -> {
      if (state.tracker.isRevoked()) {
        return Future.failedFuture("partition " + state.partition + " was revoked while its record waited");
      }
      // a record let go before it may have found the account held again: this one stays behind it
      return holds.containsKey(account) ? hold(account, incoming, state) : process(incoming, state);
    });
  }

  /**
   * How many of those in flight wait in {@link #holds}: they cannot finish, however long a drain waits. A record leaves
   * its list as it is let go, so the lists are the count.
   */
  private int held() {
    int held = 0;
    for (List<Held> waiting : holds.values()) {
      held += waiting.size();
    }
    return held;
  }

  /** Lets the records of every account the router can route again go, in the order they came. */
  private void resumeRoutable() {
    List<String> routable = holds.keySet().stream().filter(router::canRoute).toList();
    List<Held> resumed = new ArrayList<>();
    for (String account : routable) {
      if (announced.remove(account)) {
        LOG.info("Routing of account {} resumes", account);
      }
      resumed.addAll(holds.remove(account)); // first: a record that must wait again starts a hold of its own
    }
    resumed.forEach(Held::letGo);
    if (holds.isEmpty()) {
      vertx.cancelTimer(holdsTimer);
      holdsTimer = -1;
    }
  }

  /**
   * Ends, now, the held records of partitions revoked or read again: another reader (or the new read) owns them, so
   * they end not final, and no longer take memory and the drain's notice until their account resumes.
   */
  private void releaseRevoked() {
    if (holds.isEmpty()) {
      return;
    }
    List<Held> revoked = new ArrayList<>();
    for (List<Held> waiting : holds.values()) {
      waiting.removeIf(record -> record.state().tracker.isRevoked() && revoked.add(record));
    }
    holds.values().removeIf(List::isEmpty); // the timer stops at its next look when none is left
    announced.retainAll(holds.keySet()); // a later wait of such an account is logged again
    revoked.forEach(Held::letGo);
  }

  /** The account a record is routed for; null for one that is not routed (rejected). */
  private static String accountOf(Incoming incoming) {
    if (incoming.decoded() instanceof Decoded.Accepted accepted) {
      return accepted.event().accountId();
    }
    if (incoming.decoded() instanceof Decoded.Retrying retrying) {
      return retrying.retry().accountId();
    }
    return null;
  }

  /**
   * Runs {@code action} on this lane's context, where all its state lives. A record's work normally ends here; should a
   * future ever complete on another thread, its end hops back rather than race with the offset tracking.
   */
  private void onLane(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  /**
   * Takes a record to its end. A bug of ours on the way makes it a dead letter ({@code internal-error}): a record must
   * never stall its partition, nor be skipped while the ones after it commit.
   */
  private Future<Void> process(Incoming incoming, PartitionState state) {
    try {
      return processOrThrow(incoming, state);
    } catch (RuntimeException bug) {
      LOG.error("Processing the record at {} failed; it becomes a dead letter", incoming.source(), bug);
      String error = "processing failed: " + bug;
      if (incoming.decoded() instanceof Decoded.Retrying retrying) {
        // only routing can throw here (the courier guards its own steps), so the retry was never resumed
        return courier.abandon(retrying.retry(), "internal-error", error);
      }
      metrics.eventConsumed("rejected");
      String account = incoming.decoded() instanceof Decoded.Accepted accepted ? accepted.event().accountId() : "";
      return courier.deadLetter(rejectedLetter(incoming, new Decoded.Rejected("internal-error", error, account)));
    }
  }

  /**
   * Routes and delivers. Routing checks its account again after it looked ({@link #routedWhole}): an installation that
   * became unreadable meanwhile left the view after its account was marked, so the record waits for it rather than be
   * taken for unrouted, delivered to the account's other apps only (an event) or taken for uninstalled (a retry).
   */
  private Future<Void> processOrThrow(Incoming incoming, PartitionState state) {
    long changes = router.completenessChanges();
    if (incoming.decoded() instanceof Decoded.Retrying retrying) {
      Optional<Delivery> delivery = router.resume(retrying.retry());
      if (delivery.isEmpty() && !routedWhole(retrying.retry().accountId(), changes)) {
        return hold(retrying.retry().accountId(), incoming, state);
      }
      return courier.resume(retrying.retry(), delivery);
    }
    if (incoming.decoded() instanceof Decoded.Rejected rejected) {
      metrics.eventConsumed("rejected");
      return courier.deadLetter(rejectedLetter(incoming, rejected));
    }
    Decoded.Accepted accepted = (Decoded.Accepted) incoming.decoded();
    List<Delivery> deliveries = router.route(accepted.event());
    if (!routedWhole(accepted.event().accountId(), changes)) { // none is delivered yet: all wait, then route again
      return hold(accepted.event().accountId(), incoming, state);
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
   * Whether routing for {@code account} saw all of its installations: none of them unreadable now, and none became
   * unreadable or readable again since the router's count read {@code changesBefore}. In this order: an installation
   * that came back raises the count before its account reads as whole. A false answer for an account that is not held
   * only makes its record wait for the next look (a second at most).
   */
  private boolean routedWhole(String account, long changesBefore) {
    return router.canRoute(account) && router.completenessChanges() == changesBefore;
  }

  /**
   * A record's work ended. Only a final record (delivered, dead-lettered, unrouted) advances the watermark; one cut
   * short by shutdown stays open, so it is never committed and another instance delivers it again.
   */
  private void ended(PartitionState state, OffsetTracker.Ticket ticket, Incoming incoming, boolean isFinal) {
    inFlight--;
    incoming.release();
    if (isFinal) {
      ticket.done();
    }
    if (!state.tracker.isRevoked()) {
      dirty.add(state.partition);
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
    if (!offsets.isEmpty() && committer != null) {
      committer.commit(offsets, failed -> context.runOnContext(v -> commitAgain(failed)));
    }
  }

  /**
   * A commit failed (a rebalance in progress, a coordinator that moved): the next tick commits those partitions again,
   * even if no record of theirs ends before it, so a quiet partition does not keep an old commit until it is revoked.
   */
  private void commitAgain(Set<TopicPartition> failed) {
    for (TopicPartition partition : failed) {
      PartitionState state = partitions.get(partition);
      if (state != null && !state.tracker.isRevoked()) {
        state.committed = -1;
        dirty.add(partition);
      }
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
    releaseRevoked();
    return finalOffsets;
  }

  private static DeadLetter rejectedLetter(Incoming incoming, Decoded.Rejected rejected) {
    return new DeadLetter(
        rejected.accountId(), "", "", "", "", 0, OptionalInt.empty(), rejected.reason(), rejected.error(),
        incoming.source(), Bodies.of(incoming.value()));
  }

  /** A record waiting for its account in {@link #holds}; {@link #letGo} lets it go, to be processed or to end. */
  private record Held(PartitionState state, Promise<Void> waiting) {
    void letGo() {
      waiting.complete();
    }
  }

  /** One partition's offsets and last commit. */
  private static final class PartitionState {
    final TopicPartition partition;
    final OffsetTracker tracker = new OffsetTracker();
    long committed = -1;

    PartitionState(TopicPartition partition) {
      this.partition = partition;
    }
  }
}
