package dev.webhooks.dispatcher.delivery;

import dev.webhooks.dispatcher.config.Config;
import java.time.Duration;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * When to try a failed delivery again: a pure function of the retries done, the webhook's {@code max_retries} and the
 * last outcome. The delay before retry n is {@code min(max, base * multiplier^(n-1))}, raised to a receiver's
 * {@code Retry-After} (never above {@code max}), plus jitter that only ever adds (up to {@code jitterFraction} of the
 * delay), so a retry never fires early. An attempt the dispatcher held back is no failed attempt: it {@link #defers}
 * the delivery, which tries again after the same backoff by deferral number, up to {@link #MAX_DEFERRALS} times.
 */
public record RetryPolicy(Duration base, double multiplier, Duration max, double jitterFraction) {
  /** Enough spread to break up a herd of retries to one endpoint, small enough to keep the schedule recognisable. */
  public static final double DEFAULT_JITTER = 0.2;
  /**
   * Times a delivery may be deferred. A deferral spends none of the webhook's {@code max_retries}, so without a bound
   * an endpoint that never has a connection free would keep its deliveries circling through the retry topics for good.
   * With the default backoff, 8 deferrals wait 2+4+8+16+32+32+32+32 = 158 s (with the legacy fixed 30 s, 240 s), plus
   * up to {@code DELIVERY_CONNECT_TIMEOUT_MS} each for a connection: an endpoint that had none free for about 3 to 4
   * minutes is not catching up, and a dead letter saying so is more use than a delivery that comes hours late.
   */
  public static final int MAX_DEFERRALS = 8;

  public RetryPolicy {
    if (base.isNegative() || max.isNegative() || multiplier < 1.0 || jitterFraction < 0 || jitterFraction > 1) {
      throw new IllegalArgumentException("invalid retry policy " + base + " x" + multiplier + " max " + max);
    }
  }

  public static RetryPolicy from(Config config) {
    return new RetryPolicy(config.retryBaseDelay(), config.retryMultiplier(), config.retryMaxDelay(), DEFAULT_JITTER);
  }

  /**
   * The delay before the next attempt, or empty when the delivery is final (delivered, refused, or out of retries).
   *
   * @param retriesDone retries already made after the first attempt (0 after the first attempt failed)
   * @param jitter a source of numbers in {@code [0, 1)}
   */
  public Optional<Duration> nextDelay(
      int retriesDone, int maxRetries, DeliveryOutcome outcome, DoubleSupplier jitter) {
    if (!(outcome instanceof DeliveryOutcome.RetryableFailure failure) || !mayRetry(retriesDone, maxRetries)) {
      return Optional.empty();
    }
    long delayMillis = backoff(retriesDone + 1).toMillis();
    if (failure.retryAfter().isPresent()) {
      long wanted = Math.min(max.toMillis(), failure.retryAfter().get().toMillis());
      delayMillis = Math.max(delayMillis, wanted);
    }
    return Optional.of(withJitter(delayMillis, jitter));
  }

  /**
   * The longest any retry or deferral written under this policy waits: {@code max} with the most jitter. A retry due
   * later than that from now was written by an instance whose clock ran ahead, or before {@code RETRY_MAX_DELAY_MS}
   * was lowered, and waits no longer than this.
   */
  public Duration longestWait() {
    return withJitter(max.toMillis(), () -> 1.0);
  }

  /** Whether a webhook allowing {@code maxRetries} retries has one left after {@code retriesDone}. */
  static boolean mayRetry(int retriesDone, int maxRetries) {
    return retriesDone < maxRetries;
  }

  /**
   * Whether {@code outcome} is an attempt the dispatcher held back rather than a failed one: it waited its turn for a
   * free connection to an endpoint that is answering, and was never sent. DESIGN 1.2 counts a non-200/201 answer, a
   * connect failure or a timeout as a failed attempt; this is none of them, so it defers the delivery instead of
   * spending one of its attempts. An attempt refused by an open circuit does spend one: that endpoint is failing.
   */
  public static boolean defers(DeliveryOutcome outcome) {
    return outcome instanceof DeliveryOutcome.RetryableFailure failure
        && DeliveryOutcome.NO_FREE_CONNECTION.equals(failure.reason());
  }

  /**
   * The delay before a deferred delivery tries again, or empty when it has been deferred {@link #MAX_DEFERRALS} times
   * and becomes a dead letter instead: deferral n waits as retry n would, {@code backoff(n)} plus jitter, and from
   * the last tier on as long as that tier's retries, so that it never holds them up behind it.
   *
   * @param deferralsDone deferrals already made (0 when the delivery is held back for the first time)
   * @param jitter a source of numbers in {@code [0, 1)}
   */
  public Optional<Duration> nextDeferral(int deferralsDone, DoubleSupplier jitter) {
    if (deferralsDone >= MAX_DEFERRALS) {
      return Optional.empty();
    }
    return Optional.of(withJitter(backoff(Math.min(deferralsDone + 1, Config.RETRY_TIERS)).toMillis(), jitter));
  }

  /**
   * The retry topic tier (1 to {@link Config#RETRY_TIERS}) of retry {@code n} (or deferral {@code n}) waiting {@code
   * delay}: tier {@code n} (at most the last), so that the records of a tier wait about as long as each other, or a
   * later tier when a receiver's {@code Retry-After} asked for longer than tier {@code n}'s backoff (with jitter) would
   * wait.
   */
  public int tier(int n, Duration delay) {
    int tier = Math.max(1, Math.min(n, Config.RETRY_TIERS));
    while (tier < Config.RETRY_TIERS && backoff(tier).toMillis() * (1 + jitterFraction) < delay.toMillis()) {
      tier++;
    }
    return tier;
  }

  private Duration withJitter(long delayMillis, DoubleSupplier jitter) {
    double spread = Math.min(Math.max(jitter.getAsDouble(), 0.0), 1.0);
    return Duration.ofMillis(delayMillis + (long) (delayMillis * jitterFraction * spread));
  }

  /** The delay before retry {@code n} (counting from 1) without jitter: {@code min(max, base * multiplier^(n-1))}. */
  public Duration backoff(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("retries count from 1, was " + n);
    }
    double millis = base.toMillis() * Math.pow(multiplier, n - 1);
    return Duration.ofMillis((long) Math.min(max.toMillis(), millis));
  }
}
