package dev.webhooks.dispatcher.delivery;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits a lane's attempts per endpoint origin (host and port: its attempts go to one address, and so one connection
 * pool, while its name still resolves to that address; see {@code WebhookSender}): at most {@code
 * maxInFlight} run at once ({@link #STARTING_LIMIT} until the origin answers, then one more per answer; at most {@link
 * #FAST_ORIGIN_LIMIT} while it answers fast; and at most {@link #MAX_OPENING} of them beyond the connections the origin
 * has answered on), the rest wait in order for at most {@code maxWait} (then {@code no-free-connection}: never sent),
 * and none run while the origin's circuit is open after {@code failuresToOpen} attempts in a row ended without an HTTP
 * answer. After {@code openFor} the circuit is half-open: one attempt probes, and up to {@code maxInFlight} others wait
 * for its answer (as long as for a slot, then {@code circuit-open}; more are refused), which closes the circuit and
 * starts them; a probe without an answer opens the circuit again and fails them at once. (Holding all of them, then
 * failing them together, made the other endpoints' deliveries late every 10 s in the {@code isolation} load test:
 * load-tests/README.md, "Round 7".) This isolates endpoints: a blackholed or very slow one gets retryable outcomes
 * quickly, which the courier schedules like any other, instead of piling requests into the pool without bound and
 * holding the offsets of every record behind them.
 *
 * <p>Confined to one event-loop context, like everything a lane owns: no locks, and every callback runs there.
 */
final class EndpointGates {
  private static final Logger LOG = LoggerFactory.getLogger(EndpointGates.class);
  private static final long NO_TIMER = -1;
  /**
   * Attempts an origin gets at once before it has answered: each answer allows one more, up to {@code maxInFlight}, so
   * the limit doubles per round trip. A cold start then opens a few connections per endpoint, not all of them at once
   * (with 2 connections per lane the first 5 s of a cold start delivered 1,112 events, with 8 only 36 to 123), and an
   * endpoint whose circuit closes again is not met by a herd.
   */
  static final int STARTING_LIMIT = 2;
  /**
   * Attempts at once beyond the connections an origin has answered on, each making the pool open a TLS connection; the
   * others wait for a connection to be free, which at a few milliseconds per answer is sooner than a handshake among
   * hundreds. A burst of 640 POSTs to 20 endpoints was answered within 221 ms over 4 new connections per endpoint, 984
   * ms over 32 ({@code ConnectionBurst}); after a tenfold jump in the load tests, where every lane opened its 32
   * connections to every endpoint, the p99 was 523-839 ms with this cap against 1,082-1,887 ms without it
   * (load-tests/README.md, "Round 6").
   */
  static final int MAX_OPENING = 4;
  /**
   * Attempts at once (so connections) a fast origin gets: one that answered within {@link #FAST_ANSWER} on an open
   * connection in this {@link #LEAST_PERIOD} or the one before, or that has not been answering for a whole period yet
   * (in a cold start everything is slow). A lane carries hundreds of such an origin's deliveries a second on 4
   * connections; more would not be answered sooner when the lane or the receiver is the queue, and cost handshakes,
   * memory and CPU on both sides. To 20 fast endpoints, a backlog of 1,000,000 events drained at 36,970/s with 34.0 CPU
   * s, against 25,297-28,247/s with 43-50 s when every lane opened its 32; a cold start at 5,000 events/s had a p99 of
   * 1.7 s, against 3.4 s (load-tests/README.md, "Round 8"). An origin whose every answer takes longer (far away, or
   * slow at its work) grows to {@code maxInFlight}, as its answer time needs.
   */
  static final int FAST_ORIGIN_LIMIT = 4;
  static final Duration FAST_ANSWER = Duration.ofMillis(25);
  /** An origin's least answer time is that of this period or the one before, so it follows the origin as it changes. */
  static final Duration LEAST_PERIOD = Duration.ofSeconds(1);

  /**
   * URLs kept parsed (as {@link WebhookSender#PARSED_ENDPOINTS_KEPT}): past this many, the URLs are forgotten, and so
   * are the origins whose gates hold nothing (no attempt running or waiting, no circuit open now), which start afresh
   * when they come back. URLs carrying a per-installation token, and apps long uninstalled, would otherwise be kept for
   * good.
   */
  static final int ENDPOINTS_KEPT = 10_000;

  private final Vertx vertx;
  private final int maxInFlight;
  private final int startingLimit;
  private final int fastOriginLimit;
  private final Duration maxWait;
  private final int failuresToOpen;
  private final Duration openFor;
  private final LongSupplier nanoTime;
  /** Each URL is parsed once; the URLs of one origin share its gate. An unparsable URL is not kept. */
  private final Map<String, Gate> byUrl = new HashMap<>();
  private final Map<Origin, Gate> byOrigin = new HashMap<>();
  private boolean closed;

  EndpointGates(
      Vertx vertx, int maxInFlight, Duration maxWait, int failuresToOpen, Duration openFor, LongSupplier nanoTime) {
    if (maxInFlight < 1 || failuresToOpen < 1) {
      throw new IllegalArgumentException("maxInFlight and failuresToOpen must be at least 1");
    }
    this.vertx = vertx;
    this.maxInFlight = maxInFlight;
    this.startingLimit = Math.min(STARTING_LIMIT, maxInFlight);
    this.fastOriginLimit = Math.min(FAST_ORIGIN_LIMIT, maxInFlight);
    this.maxWait = maxWait;
    this.failuresToOpen = failuresToOpen;
    this.openFor = openFor;
    this.nanoTime = nanoTime;
  }

  /**
   * Runs {@code attempt} once the endpoint has a free slot and its circuit lets it through; otherwise completes with a
   * failed-attempt outcome (a value, never a failed future). Fails only when the gates are closed first.
   */
  Future<DeliveryOutcome> submit(String endpoint, Supplier<Future<DeliveryOutcome>> attempt) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("courier closed before an attempt could start"));
    }
    Gate gate = byUrl.get(endpoint);
    if (gate == null) {
      if (byUrl.size() >= ENDPOINTS_KEPT) {
        forgetIdle();
      }
      gate = gateOf(endpoint);
      if (gate == null) {
        return run(attempt, "(invalid endpoint)"); // the sender reports the invalid endpoint itself
      }
      byUrl.put(endpoint, gate);
    }
    return gate.submit(attempt);
  }

  /** The URLs kept parsed and the origins kept, for tests. */
  int endpointsKept() {
    return byUrl.size();
  }

  int originsKept() {
    return byOrigin.size();
  }

  /** Forgets every URL (each is parsed again when it comes) and the origins whose gates hold nothing. */
  private void forgetIdle() {
    byUrl.clear();
    long now = nanoTime.getAsLong();
    byOrigin.values().removeIf(gate -> gate.holdsNothing(now));
  }

  /** Completes every waiting submission with a failed future (the courier is closing); later submissions fail too. */
  void close() {
    closed = true;
    for (Gate gate : byOrigin.values()) {
      gate.failWaiters();
    }
  }

  private Gate gateOf(String endpoint) {
    Endpoint parsed;
    try {
      parsed = Endpoint.parse(endpoint);
    } catch (IllegalArgumentException e) {
      return null;
    }
    return byOrigin.computeIfAbsent(new Origin(parsed.host(), parsed.port()), origin -> new Gate(origin.host()));
  }

  /** A bug in an attempt (a throw or a failed future) becomes an I/O-error outcome, so its slot is always freed. */
  private static Future<DeliveryOutcome> run(Supplier<Future<DeliveryOutcome>> attempt, String host) {
    try {
      return attempt.get().otherwise(bug -> Outcomes.ofFailure(bug, host));
    } catch (RuntimeException bug) {
      return Future.succeededFuture(Outcomes.ofFailure(bug, host));
    }
  }

  private record Origin(String host, int port) {}

  private record Waiter(Supplier<Future<DeliveryOutcome>> attempt, long deadline, Promise<DeliveryOutcome> promise) {}

  /** One origin's slots, its FIFO of waiters with one expiry timer for the head, and its circuit. */
  private final class Gate {
    private final String host;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int inFlight;
    /** Attempts allowed at once now: from {@link #STARTING_LIMIT}, one more per answer, up to {@code maxInFlight}. */
    private int limit = startingLimit;
    /**
     * Connections the pool holds to the origin, as far as answers tell: one more for each attempt that ran beyond them
     * and was answered. (One closed since, by the receiver or for a deadline, lets one more open at once than this
     * would.)
     */
    private int opened;
    /** Attempts running beyond {@link #opened}: connections being opened. */
    private int opening;
    /** Attempts in a row that ended without an answer; from {@code failuresToOpen} on, the circuit is not closed. */
    private int failures;
    private String lastError;
    /** While the circuit is not closed: before this, open; after it, half-open (one probe at a time). */
    private long openUntil;
    private boolean probing;
    /** The least time an answer took on a connection already open, in this period and in the one before. */
    private long leastNanos = Long.MAX_VALUE;
    private long leastBeforeNanos = Long.MAX_VALUE;
    private long periodEnd;
    private long timer = NO_TIMER;
    private long timerDeadline;

    Gate(String host) {
      this.host = host;
    }

    /**
     * No attempt running or waiting, no timer, and no circuit open now (a dead origin's circuit, open long ago, would
     * only let a probe through next): forgetting it loses only its warmth.
     */
    boolean holdsNothing(long now) {
      boolean openNow = failures >= failuresToOpen && now - openUntil < 0;
      return inFlight == 0 && waiters.isEmpty() && !probing && timer == NO_TIMER && !openNow;
    }

    Future<DeliveryOutcome> submit(Supplier<Future<DeliveryOutcome>> attempt) {
      long now = nanoTime.getAsLong();
      if (failures >= failuresToOpen) {
        if (now - openUntil < 0) {
          return Future.succeededFuture(circuitOpen(now));
        }
        if (!probing && inFlight < limit && waiters.isEmpty()) {
          probing = true;
          return start(attempt, true, now);
        }
        if (waiters.size() < maxInFlight) {
          return enqueue(attempt, now); // half-open: the probe's answer decides, spending no retry of this attempt
        }
        return Future.succeededFuture(circuitOpen(now));
      }
      if (mayStart() && waiters.isEmpty()) {
        return start(attempt, false, now);
      }
      return enqueue(attempt, now);
    }

    private Future<DeliveryOutcome> enqueue(Supplier<Future<DeliveryOutcome>> attempt, long now) {
      Waiter waiter = new Waiter(attempt, now + maxWait.toNanos(), Promise.promise());
      waiters.add(waiter);
      armTimer(now);
      return waiter.promise().future();
    }

    void failWaiters() {
      cancelTimer();
      for (Waiter w; (w = waiters.poll()) != null; ) {
        w.promise().fail(new IllegalStateException("courier closed while an attempt to " + host + " was waiting"));
      }
    }

    /** Below the limits, and either a connection the origin answered on is free or few are being opened. */
    private boolean mayStart() {
      return inFlight < limit && inFlight < originLimit()
          && (inFlight - opening < opened || opening < MAX_OPENING);
    }

    /**
     * {@link #FAST_ORIGIN_LIMIT}, unless every answer of a whole period and of the one since took at least {@link
     * #FAST_ANSWER}: a cold start, when everything is slow, does not make an origin slow.
     */
    private int originLimit() {
      long least = Math.min(leastNanos, leastBeforeNanos);
      boolean slow = leastBeforeNanos != Long.MAX_VALUE && least >= FAST_ANSWER.toNanos();
      return slow ? maxInFlight : fastOriginLimit;
    }

    private Future<DeliveryOutcome> start(Supplier<Future<DeliveryOutcome>> attempt, boolean probe, long now) {
      boolean opener = inFlight - opening >= opened;
      if (opener) {
        opening++;
      }
      inFlight++;
      return run(attempt, host).andThen(done -> finished(done.result(), probe, opener, now));
    }

    private void finished(DeliveryOutcome outcome, boolean probe, boolean opener, long started) {
      long now = nanoTime.getAsLong(); // one reading for the answer's time and for the waiters it starts
      if (probe) {
        probing = false;
      }
      if (opener) {
        opening--;
        if (outcome.status().isPresent()) {
          opened = Math.min(maxInFlight, opened + 1);
        }
      } else if (outcome.status().isPresent()) { // an opener's time has a handshake in it
        answered(started, now);
      }
      record(outcome, probe);
      inFlight--;
      startWaiters(now);
    }

    private void answered(long started, long now) {
      if (now - periodEnd >= 0) {
        leastBeforeNanos = leastNanos;
        leastNanos = Long.MAX_VALUE;
        periodEnd = now + LEAST_PERIOD.toNanos();
      }
      leastNanos = Math.min(leastNanos, Math.max(0, now - started));
    }

    /**
     * Starts waiters while the circuit is closed and slots allow; while it is half-open (it never holds waiters while
     * open), starts the head as the probe once none runs.
     */
    private void startWaiters(long now) {
      if (failures < failuresToOpen) {
        while (mayStart() && !waiters.isEmpty()) {
          Waiter next = waiters.poll();
          start(next.attempt(), false, now).onComplete(next.promise());
        }
      } else if (!probing && inFlight < limit && !waiters.isEmpty()) {
        Waiter next = waiters.poll();
        probing = true;
        start(next.attempt(), true, now).onComplete(next.promise());
      }
      // an armed timer stays when the queue empties: it fires once and finds nothing due, which costs less than
      // cancelling it every time a busy gate drains and arming it again when it fills
    }

    private void record(DeliveryOutcome outcome, boolean probe) {
      if (outcome.status().isPresent()) { // any HTTP answer: the endpoint is alive
        if (failures >= failuresToOpen) {
          LOG.info("Circuit of {} closed: it answered again (HTTP {})", host, outcome.status().getAsInt());
        }
        failures = 0;
        limit = Math.min(maxInFlight, limit + 1);
        return;
      }
      if (!(outcome instanceof DeliveryOutcome.RetryableFailure failed)) {
        return; // refused by policy (blocked address, invalid endpoint): says nothing about the endpoint
      }
      failures++;
      lastError = failed.error();
      // attempts already running when the circuit opened do not extend it; a failed probe does
      if (failures == failuresToOpen) {
        LOG.warn("Circuit of {} open: its last {} attempts failed without an answer (last: {}); attempts fail at once"
            + " for {} s, then one tries again", host, failures, lastError, openFor.toSeconds());
        open();
      } else if (probe && failures > failuresToOpen) {
        open();
      }
    }

    private void open() {
      limit = startingLimit;
      opened = 0; // whatever it held has failed: the origin's connections open again a few at a time
      leastNanos = Long.MAX_VALUE; // and it is taken for a fast one until it answers again
      leastBeforeNanos = Long.MAX_VALUE;
      long now = nanoTime.getAsLong();
      openUntil = now + openFor.toNanos();
      cancelTimer();
      DeliveryOutcome notTried = circuitOpen(now);
      for (Waiter w; (w = waiters.poll()) != null; ) {
        w.promise().complete(notTried);
      }
    }

    private DeliveryOutcome circuitOpen(long now) {
      return Outcomes.circuitOpen(host, failures, lastError, Duration.ofNanos(Math.max(0, openUntil - now)));
    }

    /** Arms the one timer for the head's deadline, unless it is armed already (for an earlier head, never later). */
    private void armTimer(long now) {
      if (timer != NO_TIMER) {
        return;
      }
      timerDeadline = waiters.peek().deadline();
      long millis = Math.max(1, Duration.ofNanos(timerDeadline - now).toMillis() + 1);
      timer = vertx.setTimer(millis, id -> expire());
    }

    private void expire() {
      timer = NO_TIMER;
      long now = nanoTime.getAsLong();
      if (now - timerDeadline < 0) {
        now = timerDeadline; // the timer fired, so its deadline has passed, whatever the clock's granularity
      }
      while (!waiters.isEmpty() && waiters.peek().deadline() - now <= 0) {
        int waiting = waiters.size();
        waiters.poll().promise().complete(outOfTime(waiting));
      }
      if (!waiters.isEmpty()) {
        armTimer(now);
      }
    }

    /**
     * The outcome of a waiter whose time ran out. Only while the endpoint's last attempt was answered is it busy and
     * nothing more: it had no free connection, which the courier defers. After attempts without an answer it may be
     * failing, and the wait counts as a failed attempt, as a connection that could not open does; while the circuit
     * is half-open (it never holds waiters while open), its probe has not answered yet, which counts as a refused
     * attempt, like one the open circuit refuses.
     */
    private DeliveryOutcome outOfTime(int waiting) {
      if (failures >= failuresToOpen) {
        return Outcomes.probeUnanswered(host, failures, lastError, maxWait);
      }
      if (failures > 0) {
        return Outcomes.noFreeConnectionWhileFailing(host, maxWait, failures, lastError);
      }
      return Outcomes.noFreeConnection(host, maxWait, inFlight, waiting);
    }

    private void cancelTimer() {
      if (timer != NO_TIMER) {
        vertx.cancelTimer(timer);
        timer = NO_TIMER;
      }
    }
  }
}
