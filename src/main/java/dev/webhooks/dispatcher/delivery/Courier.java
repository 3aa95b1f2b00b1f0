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
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a delivery to a final state: delivered, or a dead letter the broker has acknowledged. Attempts are made by the
 * {@link WebhookSender}; retries wait on timers as the {@link RetryPolicy} says; a failed dead-letter write is retried
 * until it succeeds, because the record's offset may only be committed once the dead letter is durable.
 */
public final class Courier {
  private static final Logger log = LoggerFactory.getLogger(Courier.class);
  /** Even with a zero base delay, a failing dead-letter topic is not retried in a tight loop. */
  private static final Duration MIN_DEAD_LETTER_RETRY = Duration.ofMillis(100);
  private static final long NO_TIMER_YET = -1;

  private final Vertx vertx;
  private final WebhookSender sender;
  private final RetryPolicy policy;
  private final DeadLetterWriter deadLetters;
  private final DeliveryListener listener;
  private final DoubleSupplier jitter;
  private final boolean ownsSender;
  /** Deliveries waiting on a timer, with its id ({@link #NO_TIMER_YET} while it is being set), for {@link #close}. */
  private final Map<Promise<Void>, Long> waiting = new ConcurrentHashMap<>();
  private volatile boolean closed;

  public Courier(
      Vertx vertx,
      WebhookSender sender,
      RetryPolicy policy,
      DeadLetterWriter deadLetters,
      DeliveryListener listener,
      DoubleSupplier jitter) {
    this(vertx, sender, policy, deadLetters, listener, jitter, false);
  }

  private Courier(
      Vertx vertx,
      WebhookSender sender,
      RetryPolicy policy,
      DeadLetterWriter deadLetters,
      DeliveryListener listener,
      DoubleSupplier jitter,
      boolean ownsSender) {
    this.vertx = vertx;
    this.sender = sender;
    this.policy = policy;
    this.deadLetters = deadLetters;
    this.listener = listener;
    this.jitter = jitter;
    this.ownsSender = ownsSender;
  }

  /** A courier with its own sender (system DNS, wall clock) and the configured retry schedule. */
  public static Courier create(Vertx vertx, Config config, DeadLetterWriter deadLetters, DeliveryListener listener) {
    return create(vertx, config, HostResolver.system(vertx), deadLetters, listener);
  }

  /** As above, resolving hosts through {@code resolver} (one cache shared by every courier and the install checks). */
  public static Courier create(
      Vertx vertx, Config config, HostResolver resolver, DeadLetterWriter deadLetters, DeliveryListener listener) {
    return new Courier(
        vertx,
        new WebhookSender(vertx, config, resolver, Clock.systemUTC(), listener::connectionsChanged),
        RetryPolicy.from(config),
        deadLetters,
        listener,
        () -> ThreadLocalRandom.current().nextDouble(),
        true);
  }

  /**
   * Completes when the delivery is final: delivered, or its dead letter acknowledged. Fails only when the courier is
   * closed first, in which case the delivery is not final and its record must not be committed.
   */
  public Future<Void> deliver(Delivery delivery) {
    if (closed) {
      return Future.failedFuture(closedBeforeFinal(delivery));
    }
    notify(() -> listener.started(delivery));
    Promise<Void> done = Promise.promise();
    attempt(delivery, 1, done);
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

  private void attempt(Delivery delivery, int attempt, Promise<Void> done) {
    long started = System.nanoTime();
    sender
        .send(delivery)
        .otherwise(bug -> Outcomes.ofFailure(bug, "internal")) // send never fails; if it does, treat it as an I/O error
        .onSuccess(outcome -> settle(delivery, attempt, outcome, Duration.ofNanos(System.nanoTime() - started), done));
  }

  private void settle(Delivery delivery, int attempt, DeliveryOutcome outcome, Duration took, Promise<Void> done) {
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
      done.fail(closedBeforeFinal(delivery));
    } else {
      notify(() -> listener.retryScheduled(delivery, attempt + 1, delay.get()));
      later(delay.get(), done, () -> attempt(delivery, attempt + 1, done));
    }
  }

  private void writeDeadLetter(DeadLetter letter, int tries, Promise<Void> done) {
    deadLetters.write(letter).onComplete(written -> {
      if (written.succeeded()) {
        notify(() -> listener.deadLettered(letter));
        done.complete();
        return;
      }
      log.warn(
          "dead letter write {} failed for account {} client {} webhook {} host {} source {}; retrying",
          tries, letter.accountId(), letter.clientId(), letter.webhookKey(), hostOf(letter.endpoint()), letter.source(),
          written.cause());
      if (closed) {
        done.fail(new IllegalStateException("courier closed before the dead letter of " + letter.source() + " was written"
            + "; the record stays uncommitted"));
        return;
      }
      Duration backoff = policy.backoff(Math.min(tries, 30));
      later(backoff.compareTo(MIN_DEAD_LETTER_RETRY) < 0 ? MIN_DEAD_LETTER_RETRY : backoff, done,
          () -> writeDeadLetter(letter, tries + 1, done));
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
      String lastError = last instanceof DeliveryOutcome.RetryableFailure failed ? failed.error() : last.toString();
      error = "gave up after " + attempts + (attempts == 1 ? " attempt: " : " attempts: ") + lastError;
    }
    return new DeadLetter(
        app.accountId(), app.clientId(), delivery.webhookKey(), delivery.webhookId(), delivery.webhook().endpoint(),
        attempts, last.status(), reason, error, delivery.source(), delivery.body());
  }

  private static IllegalStateException closedBeforeFinal(Delivery delivery) {
    return new IllegalStateException("courier closed before delivery " + delivery.webhookId() + " was final");
  }

  /** A listener is for metrics and logs: its failures must never stop a delivery from becoming final. */
  private static void notify(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.warn("delivery listener failed", e);
    }
  }

  private static String hostOf(String endpoint) {
    try {
      return Endpoint.parse(endpoint).host();
    } catch (IllegalArgumentException e) {
      return "(invalid endpoint)";
    }
  }
}
