package dev.webhooks.dispatcher.delivery;

import dev.webhooks.dispatcher.config.Config;
import java.time.Duration;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * When to try a failed delivery again: a pure function of the retries done, the webhook's {@code max_retries} and the
 * last outcome. The delay before retry n is {@code min(max, base * multiplier^(n-1))}, raised to a receiver's
 * {@code Retry-After} (never above {@code max}), plus jitter that only ever adds (up to {@code jitterFraction} of the
 * delay), so a retry never fires early.
 */
public record RetryPolicy(Duration base, double multiplier, Duration max, double jitterFraction) {
  /** Enough spread to break up a herd of retries to one endpoint, small enough to keep the schedule recognisable. */
  public static final double DEFAULT_JITTER = 0.2;

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
    if (!(outcome instanceof DeliveryOutcome.RetryableFailure failure) || retriesDone >= maxRetries) {
      return Optional.empty();
    }
    long delayMillis = backoff(retriesDone + 1).toMillis();
    if (failure.retryAfter().isPresent()) {
      long wanted = Math.min(max.toMillis(), failure.retryAfter().get().toMillis());
      delayMillis = Math.max(delayMillis, wanted);
    }
    double spread = Math.min(Math.max(jitter.getAsDouble(), 0.0), 1.0);
    return Optional.of(Duration.ofMillis(delayMillis + (long) (delayMillis * jitterFraction * spread)));
  }

  /**
   * The retry topic tier (1 to {@link Config#RETRY_TIERS}) of retry {@code n} waiting {@code delay}: tier {@code n}, so
   * that the records of a tier wait about as long as each other, or a later tier when a receiver's {@code Retry-After}
   * asked for longer than tier {@code n}'s backoff (with jitter) would wait.
   */
  public int tier(int n, Duration delay) {
    int tier = Math.max(1, Math.min(n, Config.RETRY_TIERS));
    while (tier < Config.RETRY_TIERS && backoff(tier).toMillis() * (1 + jitterFraction) < delay.toMillis()) {
      tier++;
    }
    return tier;
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
