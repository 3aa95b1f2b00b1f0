package dev.webhooks.loadtest;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What the receivers saw, per event. Latency is measured from the event's intended send time (the open-model
 * schedule, also its Kafka record timestamp) to the moment a receiver accepts it, so a producer or broker stall is
 * counted, not hidden (no coordinated omission). Only an event's first successful delivery records a latency.
 */
final class Tally {
  /** Microseconds; up to an hour, 3 significant digits. */
  final Histogram healthyLatency = new ConcurrentHistogram(3_600_000_000L, 3);
  /** The same, for events due in the second half of the load only: the steady state, without the start-up. */
  final Histogram steadyLatency = new ConcurrentHistogram(3_600_000_000L, 3);
  /** Events intended at or after this {@code System.nanoTime()} count as steady state (set when the load starts). */
  volatile long steadyFromNanos = Long.MAX_VALUE;
  final LongAdder requests = new LongAdder();
  final LongAdder retries = new LongAdder();
  final LongAdder duplicates = new LongAdder();
  final LongAdder delivered = new LongAdder();
  final LongAdder healthyDelivered = new LongAdder();
  final LongAdder badSignatures = new LongAdder();
  final LongAdder signaturesChecked = new LongAdder();
  final AtomicLong firstDeliveryNanos = new AtomicLong(Long.MAX_VALUE);
  final AtomicLong lastDeliveryNanos = new AtomicLong(Long.MIN_VALUE);
  final AtomicLong lastHealthyDeliveryNanos = new AtomicLong(Long.MIN_VALUE);
  /** The worst latency (µs) of the events intended in each second of the load, by seconds since it started. */
  private volatile PerSecond worstBySecond = PerSecond.NONE;
  /** TLS connections the receivers accepted from the system under test: all, and per second of the load. */
  final LongAdder connections = new LongAdder();
  private volatile PerSecond connectionsBySecond = PerSecond.NONE;
  /**
   * {@link #healthyLatency} and the deliveries of each endpoint, by endpoint (none for a broken one): one endpoint that
   * falls behind shows here even where the whole does not.
   */
  private final Histogram[] endpointLatency = new Histogram[Workload.ENDPOINTS];
  private final LongAdder[] endpointDelivered = new LongAdder[Workload.ENDPOINTS];
  private final AtomicLong[] endpointLastNanos = new AtomicLong[Workload.ENDPOINTS];
  private final AtomicIntegerArray attempts;
  private final AtomicIntegerArray done;

  Tally(int capacity) {
    attempts = new AtomicIntegerArray(capacity);
    done = new AtomicIntegerArray(capacity);
    for (int endpoint = 0; endpoint < Workload.ENDPOINTS; endpoint++) {
      endpointLatency[endpoint] = new ConcurrentHistogram(3_600_000_000L, 3);
      endpointDelivered[endpoint] = new LongAdder();
      endpointLastNanos[endpoint] = new AtomicLong(Long.MIN_VALUE);
    }
  }

  /** A request arrived for event {@code seq}: a retry when an earlier attempt was not answered with success. */
  void attempt(int seq) {
    requests.increment();
    if (attempts.getAndIncrement(seq) > 0 && done.get(seq) == 0) {
      retries.increment();
    }
  }

  /** Event {@code seq} was answered 200 by {@code endpoint}; a second 200 for the same event is a duplicate. */
  void success(int seq, int endpoint, long intendedNanos, boolean healthy) {
    if (done.getAndSet(seq, 1) != 0) {
      duplicates.increment();
      return;
    }
    long now = System.nanoTime();
    delivered.increment();
    firstDeliveryNanos.accumulateAndGet(now, Math::min);
    lastDeliveryNanos.accumulateAndGet(now, Math::max);
    if (healthy) {
      healthyDelivered.increment();
      lastHealthyDeliveryNanos.accumulateAndGet(now, Math::max);
      long micros = Math.max(0, (now - intendedNanos) / 1_000);
      healthyLatency.recordValue(micros);
      endpointLatency[endpoint].recordValue(micros);
      endpointDelivered[endpoint].increment();
      endpointLastNanos[endpoint].accumulateAndGet(now, Math::max);
      if (intendedNanos >= steadyFromNanos) {
        steadyLatency.recordValue(micros);
      }
      worstBySecond.max(intendedNanos, micros);
    }
  }

  /**
   * Forgets what a warm-up before the load recorded in the latencies and the per-endpoint counts ({@link
   * #healthyDelivered} is not reset: the caller subtracts what it held before the load).
   */
  void forgetTheWarmUp() {
    healthyLatency.reset();
    for (int endpoint = 0; endpoint < Workload.ENDPOINTS; endpoint++) {
      endpointLatency[endpoint].reset();
      endpointDelivered[endpoint].reset();
      endpointLastNanos[endpoint].set(Long.MIN_VALUE);
    }
  }

  /** The latencies of the events {@code endpoint} answered (since {@link #forgetTheWarmUp}), if it is healthy. */
  Histogram endpointLatency(int endpoint) {
    return endpointLatency[endpoint];
  }

  /** How many events {@code endpoint} was the first to answer 200 (since {@link #forgetTheWarmUp}). */
  long endpointDelivered(int endpoint) {
    return endpointDelivered[endpoint].sum();
  }

  /** When {@code endpoint} last answered an event 200 for the first time ({@code System.nanoTime()}). */
  long endpointLastNanos(int endpoint) {
    return endpointLastNanos[endpoint].get();
  }

  /** A receiver accepted a connection. */
  void connected() {
    connections.increment();
    connectionsBySecond.increment(System.nanoTime());
  }

  /** The load of {@code seconds} starts now: the per-second counts count from here. */
  void loadStarts(long startNanos, int seconds) {
    worstBySecond = PerSecond.starting(startNanos, 1_000_000_000L, seconds);
    connectionsBySecond = PerSecond.starting(startNanos, 1_000_000_000L, seconds);
  }

  long[] connectionsBySecond() {
    return connectionsBySecond.values();
  }

  long[] worstMicrosBySecond() {
    return worstBySecond.values();
  }

  boolean delivered(int seq) {
    return done.get(seq) != 0;
  }
}
