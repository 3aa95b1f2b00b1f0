package dev.webhooks.dispatcher.delivery;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.install.Installation;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a delivery to a final state for this instance: delivered, a dead letter the broker has acknowledged, or a retry
 * the broker has acknowledged in the retry topic. Attempts are made by the {@link WebhookSender}, admitted per endpoint
 * by {@link EndpointGates} (a cap, a bounded wait, a circuit breaker), so a bad endpoint holds little. After a failed
 * attempt the {@link RetryPolicy} says whether and when to try again, and the delivery goes to the retry topic with its
 * due time, so its source record can be committed while it waits; it comes back through {@link #resume}. An attempt
 * that waited in vain for a free connection to its endpoint was never sent: it is deferred the same way, with no
 * attempt spent, up to {@link RetryPolicy#MAX_DEFERRALS} times. A failed write to Kafka is retried until it succeeds,
 * because the source record may only be committed once it is durable; only a record Kafka will never take, being too
 * large, gives way to a smaller one: a retry to its dead letter, a dead letter to one without its value.
 */
public final class Courier {
  private static final Logger log = LoggerFactory.getLogger(Courier.class);
  /** Even with a zero base delay, a failing Kafka write is not retried in a tight loop. */
  private static final Duration MIN_WRITE_RETRY = Duration.ofMillis(100);
  private static final long NO_TIMER_YET = -1;
  /** Attempts in a row without an answer that open an endpoint's circuit: a pattern, not one unlucky timeout. */
  private static final int FAILURES_TO_OPEN = 5;
  /** How long an open circuit refuses attempts before one probe may try; a dead endpoint then sees one at a time. */
  private static final Duration OPEN_FOR = Duration.ofSeconds(5);

  private final Vertx vertx;
  private final WebhookSender sender;
  private final EndpointGates gates;
  private final RetryPolicy policy;
  private final Outbox outbox;
  private final DeliveryListener listener;
  private final DoubleSupplier jitter;
  private final Clock clock;
  private final boolean ownsSender;
  /** Deliveries waiting on a timer, with its id ({@link #NO_TIMER_YET} while it is being set), for {@link #close}. */
  private final Map<Promise<Void>, Long> waiting = new ConcurrentHashMap<>();
  private volatile boolean closed;

  Courier(
      Vertx vertx,
      WebhookSender sender,
      EndpointGates gates,
      RetryPolicy policy,
      Outbox outbox,
      DeliveryListener listener,
      DoubleSupplier jitter,
      Clock clock) {
    this(vertx, sender, gates, policy, outbox, listener, jitter, clock, false);
  }

  private Courier(
      Vertx vertx,
      WebhookSender sender,
      EndpointGates gates,
      RetryPolicy policy,
      Outbox outbox,
      DeliveryListener listener,
      DoubleSupplier jitter,
      Clock clock,
      boolean ownsSender) {
    this.vertx = vertx;
    this.sender = sender;
    this.gates = gates;
    this.policy = policy;
    this.outbox = outbox;
    this.listener = listener;
    this.jitter = jitter;
    this.clock = clock;
    this.ownsSender = ownsSender;
  }

  /** A courier with its own sender (system DNS, wall clock) and the configured retry schedule. */
  public static Courier create(Vertx vertx, Config config, Outbox outbox, DeliveryListener listener) {
    return create(vertx, config, HostResolver.system(vertx), outbox, listener);
  }

  /** As above, resolving hosts through {@code resolver} (one cache shared by every courier and the install checks). */
  public static Courier create(
      Vertx vertx, Config config, HostResolver resolver, Outbox outbox, DeliveryListener listener) {
    Clock clock = Clock.systemUTC();
    return new Courier(
        vertx,
        new WebhookSender(vertx, config, resolver, clock, listener::connectionsChanged),
        gates(vertx, config),
        RetryPolicy.from(config),
        outbox,
        listener,
        () -> ThreadLocalRandom.current().nextDouble(),
        clock,
        true);
  }

  /**
   * An endpoint's attempts in flight are capped at its connections (so the pool never queues), wait for a connection no
   * longer than the connect timeout, and stop for a while once it has failed {@link #FAILURES_TO_OPEN} times in a row.
   */
  static EndpointGates gates(Vertx vertx, Config config) {
    return new EndpointGates(vertx, config.maxConnectionsPerEndpoint(), config.connectTimeout(), FAILURES_TO_OPEN,
        OPEN_FOR, System::nanoTime);
  }

  /**
   * Completes when the delivery is final for this instance: delivered, or its dead letter or retry acknowledged. Fails
   * only when the courier is closed first; the delivery is then not final and its record must not be committed.
   */
  public Future<Void> deliver(Delivery delivery) {
    if (closed) {
      return Future.failedFuture(closedBeforeFinal(delivery.webhookId()));
    }
    notify(() -> listener.started(delivery));
    Promise<Void> done = Promise.promise();
    attempt(delivery, 1, 0, done);
    return done.future();
  }

  /**
   * Takes a retry from a retry topic and makes its next attempt as {@link #deliver} would, once it is due (the consumer
   * hands retries over when due; this only waits out a difference of clocks). {@code delivery} is the delivery as the
   * app is installed now; when it is empty (the app was uninstalled, disabled or lost the webhook), or its {@code
   * max_retries} now allows no attempt beyond those made, the retry becomes a dead letter saying so.
   */
  public Future<Void> resume(Retry retry, Optional<Delivery> delivery) {
    if (closed) {
      return Future.failedFuture(closedBeforeFinal(retry.webhookId()));
    }
    notify(() -> listener.resumed(retry));
    Promise<Void> done = Promise.promise();
    if (delivery.isEmpty()) {
      String error = "app " + retry.clientId() + " of account " + retry.accountId() + " no longer has an enabled "
          + retry.webhookKey() + " webhook; " + attemptsText(retry.attempts()) + " made, the last try: "
          + retry.lastError();
      writeDeadLetter(retry.abandoned("uninstalled", error), 1, done);
      return done.future();
    }
    int maxRetries = delivery.get().webhook().maxRetries();
    // the next attempt would be retry number attempts(); max_retries may have been lowered since this one was written
    if (!RetryPolicy.mayRetry(retry.attempts() - 1, maxRetries)) {
      String error = "max_retries is now " + maxRetries + " and " + attemptsText(retry.attempts())
          + " were made; the last try: " + retry.lastError();
      writeDeadLetter(retry.abandoned("exhausted", error), 1, done);
      return done.future();
    }
    Duration wait = Duration.ofMillis(retry.dueAtMillis() - clock.millis());
    Runnable next = () -> attempt(delivery.get(), retry.attempts() + 1, retry.deferrals(), done);
    // Due further out than any retry waits, it was written by a clock that ran ahead, and the consumer has held it for
    // as long as that already
    if (wait.isNegative() || wait.isZero() || wait.compareTo(policy.longestWait()) > 0) {
      next.run();
    } else {
      later(wait, done, next);
    }
    return done.future();
  }

  /**
   * Makes a retry a dead letter, unattempted, when it could not be taken up at all (a bug of ours while routing it):
   * heard as {@link DeliveryListener#resumed resumed}, then dead-lettered, so the count of deliveries in flight stays
   * right. Completes and fails as {@link #deadLetter} does.
   */
  public Future<Void> abandon(Retry retry, String reason, String error) {
    if (closed) {
      return Future.failedFuture(closedBeforeFinal(retry.webhookId()));
    }
    notify(() -> listener.resumed(retry));
    Promise<Void> done = Promise.promise();
    writeDeadLetter(retry.abandoned(reason, error), 1, done);
    return done.future();
  }

  /**
   * Makes a dead letter durable for a record that never became a delivery (rejected at intake). Completes once the
   * broker has acknowledged it; fails only when the courier is closed first, and then the record is not final.
   */
  public Future<Void> deadLetter(DeadLetter letter) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("courier closed before the dead letter of "
          + letter.source() + " was written"));
    }
    Promise<Void> done = Promise.promise();
    writeDeadLetter(letter, 1, done);
    return done.future();
  }

  /** Cancels waiting retries (their deliveries fail as not final, to be redelivered) and closes an owned sender. */
  public Future<Void> close() {
    closed = true;
    gates.close();
    for (Promise<Void> done : waiting.keySet()) {
      Long timer = waiting.remove(done);
      if (timer != null) { // else its timer fired just now and the work goes on
        if (timer != NO_TIMER_YET) {
          vertx.cancelTimer(timer);
        }
        done.tryFail(new IllegalStateException("courier closed while a retry was waiting"));
      }
    }
    return ownsSender ? sender.close() : Future.succeededFuture();
  }

  /** Makes attempt number {@code attempt} of a delivery deferred {@code deferrals} times so far. */
  private void attempt(Delivery delivery, int attempt, int deferrals, Promise<Void> done) {
    long started = System.nanoTime();
    gates
        .submit(delivery.webhook().endpoint(), () -> sender.send(delivery))
        .onFailure(done::tryFail) // the courier closed while the attempt waited for a connection: not final
        .onSuccess(outcome ->
            settle(delivery, attempt, deferrals, outcome, Duration.ofNanos(System.nanoTime() - started), done));
  }

  private void settle(Delivery delivery, int attempt, int deferrals, DeliveryOutcome outcome, Duration took,
      Promise<Void> done) {
    if (closed && !(outcome instanceof DeliveryOutcome.Delivered)) {
      // Closing fails the requests still open (and the waits for a connection): that says nothing of the endpoint,
      // and a dead letter now would end a delivery another instance is about to make.
      done.fail(closedBeforeFinal(delivery.webhookId()));
      return;
    }
    if (RetryPolicy.defers(outcome)) {
      defer(delivery, attempt, deferrals, outcome, done);
      return;
    }
    notify(() -> listener.attempted(delivery, attempt, outcome, took));
    if (outcome instanceof DeliveryOutcome.Delivered) {
      notify(() -> listener.delivered(delivery, attempt));
      done.complete();
      return;
    }
    Optional<Duration> delay = policy.nextDelay(attempt - 1, delivery.webhook().maxRetries(), outcome, jitter);
    if (delay.isEmpty()) {
      writeDeadLetter(deadLetter(delivery, attempt, outcome), 1, done);
    } else if (closed) {
      done.fail(closedBeforeFinal(delivery.webhookId()));
    } else {
      Retry retry = Retry.of(delivery, attempt, deferrals, clock.millis() + delay.get().toMillis(), outcome);
      writeRetry(delivery, retry, policy.tier(attempt, delay.get()), attempt + 1, delay.get(), outcome, done);
    }
  }

  /**
   * Attempt number {@code attempt} was held back, never sent: it spends none of the webhook's {@code max_retries}. The
   * delivery goes to the retry topic with the attempts made before it, to make this attempt after the backoff of its
   * deferral number; held back once more after {@link RetryPolicy#MAX_DEFERRALS} deferrals, it becomes a dead letter.
   */
  private void defer(Delivery delivery, int attempt, int deferrals, DeliveryOutcome heldBack, Promise<Void> done) {
    int made = attempt - 1;
    int deferral = deferrals + 1;
    Optional<Duration> delay = policy.nextDeferral(deferrals, jitter);
    if (delay.isEmpty()) {
      writeDeadLetter(neverConnected(delivery, made, deferral, heldBack), 1, done);
    } else if (closed) {
      done.fail(closedBeforeFinal(delivery.webhookId()));
    } else {
      notify(() -> listener.deferred(delivery, attempt, deferral, heldBack));
      Retry retry = Retry.of(delivery, made, deferral, clock.millis() + delay.get().toMillis(), heldBack);
      writeRetry(delivery, retry, policy.tier(deferral, delay.get()), attempt, delay.get(), heldBack, done);
    }
  }

  /**
   * Hands {@code retry} to the retry topic of {@code tier}, for attempt number {@code next} after {@code delay}; one
   * that Kafka will not take becomes a dead letter.
   */
  private void writeRetry(Delivery delivery, Retry retry, int tier, int next, Duration delay, DeliveryOutcome last,
      Promise<Void> done) {
    writeDurably(() -> outbox.retry(retry, tier), "retry", retry.source(), 1, done,
        () -> notify(() -> listener.retryScheduled(delivery, next, delay)),
        tooLarge -> writeDeadLetter(tooLargeToRetry(delivery, retry.attempts(), last, tooLarge), 1, done));
  }

  /** A letter Kafka never takes is written again without its value, which leaves headers of a few hundred bytes. */
  private void writeDeadLetter(DeadLetter letter, int tries, Promise<Void> done) {
    writeDurably(() -> outbox.deadLetter(letter), "dead letter", letter.source(), tries, done,
        () -> notify(() -> listener.deadLettered(letter)),
        letter.value().length() == 0 ? null
            : tooLarge -> writeDeadLetter(letter.withoutValue(tooLarge.getMessage()), 1, done));
  }

  /**
   * Writes to Kafka until the broker acknowledges, then runs {@code written} and completes {@code done}. A record Kafka
   * will never take goes to {@code smaller} instead, when given, which writes a smaller one in its place: trying the
   * same record again would hold its source record, and so its partition's commits, for good.
   */
  private void writeDurably(Supplier<Future<Void>> write, String what, Source source, int tries, Promise<Void> done,
      Runnable written, Consumer<Outbox.TooLarge> smaller) {
    write.get().onComplete(result -> {
      if (result.succeeded()) {
        written.run();
        done.complete();
        return;
      }
      if (smaller != null && result.cause() instanceof Outbox.TooLarge tooLarge) {
        log.warn("The {} of the record at {} is too large for Kafka; writing a smaller one instead: {}", what, source,
            tooLarge.getMessage());
        smaller.accept(tooLarge);
        return;
      }
      log.warn("{} write {} failed for the record at {}; retrying", what, tries, source, result.cause());
      if (closed) {
        done.fail(new IllegalStateException("courier closed before the " + what + " of " + source + " was written"
            + "; the record stays uncommitted"));
        return;
      }
      Duration backoff = policy.backoff(Math.min(tries, 30));
      later(backoff.compareTo(MIN_WRITE_RETRY) < 0 ? MIN_WRITE_RETRY : backoff, done,
          () -> writeDurably(write, what, source, tries + 1, done, written, smaller));
    });
  }

  /** Runs {@code action} after {@code delay} unless the courier is closed first; one wait per delivery at a time. */
  private void later(Duration delay, Promise<Void> done, Runnable action) {
    waiting.put(done, NO_TIMER_YET);
    long timer = vertx.setTimer(Math.max(1, delay.toMillis()), id -> {
      if (waiting.remove(done) != null) {
        action.run();
      }
    });
    waiting.replace(done, NO_TIMER_YET, timer);
  }

  /** The dead letter of a delivery that will not be delivered, with the headers of DESIGN 1.3. */
  static DeadLetter deadLetter(Delivery delivery, int attempts, DeliveryOutcome last) {
    Installation app = delivery.app();
    String reason;
    String error;
    if (last instanceof DeliveryOutcome.PermanentFailure refused) {
      reason = refused.reason();
      error = refused.error();
    } else {
      reason = "exhausted";
      error = "gave up after " + attemptsText(attempts) + ": " + Outcomes.errorOf(last);
    }
    return new DeadLetter(
        app.accountId(), app.clientId(), delivery.webhookKey(), delivery.webhookId(), delivery.webhook().endpoint(),
        attempts, last.status(), reason, error, delivery.source(), delivery.body());
  }

  /** The dead letter of a delivery held back once more than it may be deferred: it never got a connection. */
  static DeadLetter neverConnected(Delivery delivery, int attempts, int heldBackTimes, DeliveryOutcome last) {
    Installation app = delivery.app();
    String error = "never got a free connection in " + heldBackTimes + " turns (deferred " + (heldBackTimes - 1)
        + " times), " + attemptsText(attempts) + " made; the last turn: " + Outcomes.errorOf(last);
    return new DeadLetter(
        app.accountId(), app.clientId(), delivery.webhookKey(), delivery.webhookId(), delivery.webhook().endpoint(),
        attempts, last.status(), DeliveryOutcome.NO_FREE_CONNECTION, error, delivery.source(), delivery.body());
  }

  /** The dead letter of a delivery whose retry Kafka does not take: it cannot wait for its next attempt anywhere. */
  static DeadLetter tooLargeToRetry(Delivery delivery, int attempts, DeliveryOutcome last, Outbox.TooLarge why) {
    DeadLetter failed = deadLetter(delivery, attempts, last);
    return new DeadLetter(failed.accountId(), failed.clientId(), failed.webhookKey(), failed.webhookId(),
        failed.endpoint(), attempts, failed.lastStatus(), "too-large",
        "its retry is too large for Kafka (" + why.getMessage() + ") after " + attemptsText(attempts) + ", the last: "
            + Outcomes.errorOf(last),
        failed.source(), failed.value());
  }

  private static String attemptsText(int attempts) {
    return attempts + (attempts == 1 ? " attempt" : " attempts");
  }

  private static IllegalStateException closedBeforeFinal(String webhookId) {
    return new IllegalStateException("courier closed before delivery " + webhookId + " was final");
  }

  /** A listener is for metrics and logs: its failures must never stop a delivery from becoming final. */
  private static void notify(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.warn("delivery listener failed", e);
    }
  }

}
