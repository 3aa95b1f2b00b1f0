package dev.webhooks.loadtest;

import java.util.List;
import java.util.Set;

/**
 * One workload, run identically against both systems.
 *
 * @param ratePerSecond events offered per second by the open-model producer (0: none while the system runs)
 * @param backlogEvents events written before the system starts (the backlog scenario)
 * @param receiverDelayMs how long every healthy receiver takes to answer
 * @param errorRate share of healthy answers that are 500 (exercises retries)
 * @param blackholed endpoints that accept requests and never answer
 * @param answerAfter6s endpoints that answer 200 only after 6 s (past the 5 s response timeout)
 */
record Scenario(
    String name,
    int ratePerSecond,
    int durationSeconds,
    int backlogEvents,
    int receiverDelayMs,
    double errorRate,
    Set<Integer> blackholed,
    Set<Integer> answerAfter6s) {

  static final List<String> NAMES = List.of("smoke", "throughput", "latency", "slow-receivers", "isolation", "backlog");

  static Scenario named(String name) {
    return switch (name) {
      // small and quick: CI runs it; a few 500s so the retry path runs too
      case "smoke" -> new Scenario(name, 200, 10, 0, 0, 0.02, Set.of(), Set.of());
      // receivers answer at once; the producer keeps offering while the system delivers
      case "throughput" -> new Scenario(name, 30_000, 60, 0, 0, 0, Set.of(), Set.of());
      case "latency" -> new Scenario(name, 5_000, 60, 0, 0, 0, Set.of(), Set.of());
      case "slow-receivers" -> new Scenario(name, 12_000, 60, 0, 50, 0, Set.of(), Set.of());
      // endpoint 0 never answers, endpoint 1 answers after 6 s: both fail every attempt, with max_retries 5
      case "isolation" -> new Scenario(name, 5_000, 60, 0, 0, 0, Set.of(0), Set.of(1));
      case "backlog" -> new Scenario(name, 0, 0, 1_000_000, 0, 0, Set.of(), Set.of());
      default -> throw new IllegalArgumentException("unknown scenario '" + name + "'; one of " + NAMES);
    };
  }

  Scenario withDuration(int seconds) {
    return new Scenario(name, ratePerSecond, seconds, backlogEvents, receiverDelayMs, errorRate, blackholed,
        answerAfter6s);
  }

  Scenario withRate(int rate) {
    return new Scenario(name, rate, durationSeconds, backlogEvents, receiverDelayMs, errorRate, blackholed,
        answerAfter6s);
  }

  Scenario withBacklog(int events) {
    return new Scenario(name, ratePerSecond, durationSeconds, events, receiverDelayMs, errorRate, blackholed,
        answerAfter6s);
  }

  boolean healthy(int endpoint) {
    return !blackholed.contains(endpoint) && !answerAfter6s.contains(endpoint);
  }

  int maxRetries(int endpoint) {
    return healthy(endpoint) ? 3 : 5;
  }

  /** Events the run produces at most: what the per-event bookkeeping arrays are sized for. */
  int capacity() {
    return backlogEvents + (int) Math.min(Integer.MAX_VALUE - 10_000L, (long) ratePerSecond * durationSeconds + 10_000);
  }

  long offered() {
    return backlogEvents + (long) ratePerSecond * durationSeconds;
  }
}
