package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RetryPolicyTest {
  private static final RetryPolicy DEFAULTS =
      new RetryPolicy(Duration.ofMillis(2000), 2.0, Duration.ofMillis(60_000), 0.2);
  private static final DoubleSupplier NO_JITTER = () -> 0.0;
  private static final DoubleSupplier MOST_JITTER = () -> 0.999_999;

  private static DeliveryOutcome.RetryableFailure serverError() {
    return new DeliveryOutcome.RetryableFailure(OptionalInt.of(500), "http-status", "HTTP 500", Optional.empty());
  }

  private static DeliveryOutcome.RetryableFailure failure(String reason) {
    return new DeliveryOutcome.RetryableFailure(OptionalInt.empty(), reason, "h: " + reason, Optional.empty());
  }

  private static DeliveryOutcome.RetryableFailure retryAfter(int status, Duration after) {
    return new DeliveryOutcome.RetryableFailure(OptionalInt.of(status), "http-status", "HTTP " + status, Optional.of(after));
  }

  @ParameterizedTest(name = "retry {0} waits {1} ms")
  @CsvSource({"1, 2000", "2, 4000", "3, 8000", "4, 16000", "5, 32000", "6, 60000", "7, 60000", "40, 60000"})
  void growsGeometricallyUpToTheMaximum(int retry, long millis) {
    assertThat(DEFAULTS.backoff(retry)).isEqualTo(Duration.ofMillis(millis));
    assertThat(DEFAULTS.nextDelay(retry - 1, 100, serverError(), NO_JITTER)).contains(Duration.ofMillis(millis));
  }

  @Test
  void retryNWaitsInTierNUnlessARetryAfterAsksForLongerThanItsBackoff() {
    for (int n = 1; n <= 5; n++) {
      Duration withMostJitter = DEFAULTS.nextDelay(n - 1, 5, serverError(), MOST_JITTER).orElseThrow();
      assertThat(DEFAULTS.tier(n, withMostJitter)).as("retry %d", n).isEqualTo(n);
    }
    assertThat(DEFAULTS.tier(1, Duration.ofSeconds(10))).as("Retry-After: 10 s, past tier 3's 8 s").isEqualTo(4);
    assertThat(DEFAULTS.tier(1, Duration.ofSeconds(60))).as("past every tier: the last").isEqualTo(5);
    assertThat(DEFAULTS.tier(7, Duration.ofSeconds(2))).as("never past the last tier").isEqualTo(5);
  }

  @Test
  void noRetryOrDeferralWaitsLongerThanTheLongestWait() {
    assertThat(DEFAULTS.longestWait()).isEqualTo(Duration.ofSeconds(72));
    Duration longestAsked = DEFAULTS.nextDelay(40, 100, retryAfter(503, Duration.ofHours(1)), MOST_JITTER).orElseThrow();
    assertThat(longestAsked).isLessThanOrEqualTo(DEFAULTS.longestWait());
    assertThat(DEFAULTS.nextDeferral(RetryPolicy.MAX_DEFERRALS - 1, MOST_JITTER).orElseThrow())
        .isLessThanOrEqualTo(DEFAULTS.longestWait());
  }

  @Test
  void onlyAnAttemptThatWaitedInVainForAFreeConnectionDefers() {
    assertThat(RetryPolicy.defers(Outcomes.noFreeConnection("h", Duration.ofSeconds(5), 32, 1))).isTrue();
    assertThat(RetryPolicy.defers(failure("connect-timeout"))).as("a connection that did not open").isFalse();
    assertThat(RetryPolicy.defers(failure(DeliveryOutcome.CIRCUIT_OPEN))).as("a failing endpoint").isFalse();
    assertThat(RetryPolicy.defers(Outcomes.probeUnanswered("h", 5, "timeout", Duration.ofSeconds(5)))).isFalse();
    assertThat(RetryPolicy.defers(serverError())).isFalse();
    assertThat(RetryPolicy.defers(new DeliveryOutcome.Delivered(200))).isFalse();
  }

  @ParameterizedTest(name = "deferral {0} waits {1} ms")
  @CsvSource({"1, 2000", "2, 4000", "3, 8000", "5, 32000", "6, 32000", "8, 32000"})
  void deferralNWaitsAsRetryNWouldAndFromTheLastTierOnAsLongAsItsRetries(int deferral, long millis) {
    assertThat(DEFAULTS.nextDeferral(deferral - 1, NO_JITTER)).contains(Duration.ofMillis(millis));
    Duration withMostJitter = DEFAULTS.nextDeferral(deferral - 1, MOST_JITTER).orElseThrow();
    assertThat(withMostJitter).isBetween(Duration.ofMillis(millis), Duration.ofMillis(millis * 12 / 10));
    assertThat(DEFAULTS.tier(deferral, withMostJitter)).isEqualTo(Math.min(deferral, 5));
  }

  @Test
  void aDeliveryIsDeferredAtMostMaxDeferralsTimes() {
    assertThat(DEFAULTS.nextDeferral(RetryPolicy.MAX_DEFERRALS - 1, NO_JITTER)).isPresent();
    assertThat(DEFAULTS.nextDeferral(RetryPolicy.MAX_DEFERRALS, NO_JITTER)).isEmpty();
  }

  @Test
  void legacyFixedThirtySecondsIsMultiplierOne() {
    RetryPolicy legacy = new RetryPolicy(Duration.ofSeconds(30), 1.0, Duration.ofSeconds(60), 0.0);
    assertThat(legacy.nextDelay(0, 5, serverError(), MOST_JITTER)).contains(Duration.ofSeconds(30));
    assertThat(legacy.nextDelay(4, 5, serverError(), MOST_JITTER)).contains(Duration.ofSeconds(30));
  }

  @Test
  void jitterNeverFiresEarlyAndStaysBounded() {
    for (double j = 0.0; j < 1.0; j += 0.01) {
      double spread = j;
      for (int retry = 1; retry <= 7; retry++) {
        Duration base = DEFAULTS.backoff(retry);
        Duration delay = DEFAULTS.nextDelay(retry - 1, 10, serverError(), () -> spread).orElseThrow();
        assertThat(delay).isGreaterThanOrEqualTo(base);
        assertThat(delay.toMillis()).isLessThanOrEqualTo((long) (base.toMillis() * 1.2));
      }
    }
  }

  @Test
  void stopsWhenRetriesAreUsedUp() {
    assertThat(DEFAULTS.nextDelay(0, 0, serverError(), NO_JITTER)).isEmpty();
    assertThat(DEFAULTS.nextDelay(1, 2, serverError(), NO_JITTER)).isPresent();
    assertThat(DEFAULTS.nextDelay(2, 2, serverError(), NO_JITTER)).isEmpty();
  }

  @Test
  void neverRetriesPermanentFailuresOrSuccess() {
    var blocked = new DeliveryOutcome.PermanentFailure(OptionalInt.empty(), "blocked-address", "loopback");
    assertThat(DEFAULTS.nextDelay(0, 5, blocked, NO_JITTER)).isEmpty();
    assertThat(DEFAULTS.nextDelay(0, 5, new DeliveryOutcome.Delivered(200), NO_JITTER)).isEmpty();
  }

  @Test
  void honoursALongerRetryAfterUpToTheMaximum() {
    assertThat(DEFAULTS.nextDelay(0, 5, retryAfter(429, Duration.ofSeconds(10)), NO_JITTER))
        .contains(Duration.ofSeconds(10));
    assertThat(DEFAULTS.nextDelay(0, 5, retryAfter(503, Duration.ofHours(1)), NO_JITTER))
        .contains(Duration.ofSeconds(60));
  }

  @Test
  void aShorterRetryAfterDoesNotShortenTheBackoff() {
    assertThat(DEFAULTS.nextDelay(2, 5, retryAfter(503, Duration.ofSeconds(1)), NO_JITTER))
        .contains(Duration.ofSeconds(8));
  }

  @Test
  void jitterIsAddedOnTopOfRetryAfter() {
    Duration delay = DEFAULTS.nextDelay(0, 5, retryAfter(429, Duration.ofSeconds(10)), MOST_JITTER).orElseThrow();
    assertThat(delay).isBetween(Duration.ofSeconds(10), Duration.ofSeconds(12));
  }
}
