package dev.webhooks.loadtest;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One figure per second of a load, by the second an instant falls in (counted from the load's start, in whatever unit
 * the caller's instants are); instants before the start or after its last second are ignored. Safe across threads.
 */
final class PerSecond {
  static final PerSecond NONE = new PerSecond(Long.MAX_VALUE, 1, 0);

  private final long start;
  private final long unitsPerSecond;
  private final AtomicLongArray values;

  private PerSecond(long start, long unitsPerSecond, int seconds) {
    this.start = start;
    this.unitsPerSecond = unitsPerSecond;
    this.values = new AtomicLongArray(seconds);
  }

  /** A load of {@code seconds} starting at {@code start}, with one more second for what comes due at its very end. */
  static PerSecond starting(long start, long unitsPerSecond, int seconds) {
    return new PerSecond(start, unitsPerSecond, seconds + 1);
  }

  /** Keeps the largest {@code value} of the second {@code at} falls in. */
  void max(long at, long value) {
    int second = secondOf(at);
    if (second >= 0) {
      values.accumulateAndGet(second, value, Math::max);
    }
  }

  /** Counts one in the second {@code at} falls in. */
  void increment(long at) {
    int second = secondOf(at);
    if (second >= 0) {
      values.incrementAndGet(second);
    }
  }

  long[] values() {
    long[] copy = new long[values.length()];
    for (int i = 0; i < copy.length; i++) {
      copy[i] = values.get(i);
    }
    return copy;
  }

  private int secondOf(long at) {
    long second = (at - start) / unitsPerSecond;
    return at >= start && second < values.length() ? (int) second : -1;
  }
}
