package dev.webhooks.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The targets of issue 6 that one scenario's run can judge, each with what the dispatcher measured and whether that
 * meets it. The harness prints them after its table and writes them into the dispatcher's JSON; it fails a run only
 * for a lost event, never for a target, since a shared machine's noise is no bug.
 */
final class Targets {
  static final double MAX_READY_S = 3.0;
  static final double MAX_RSS_MIB = 512;

  /** One target: what it asks, what was measured, and whether that meets it. */
  record Verdict(String target, String measured, boolean met) {}

  private final List<Verdict> verdicts = new ArrayList<>();

  private Targets() {}

  /**
   * Judges the dispatcher's row of {@code scenario}. {@code baseline} is the baseline's row of the same run, when it
   * ran; {@code latency} the dispatcher's row of the last {@code latency} run, which {@code isolation} compares with.
   */
  static List<Verdict> judge(
      Scenario scenario, JsonNode dispatcher, Optional<JsonNode> baseline, Optional<JsonNode> latency) {
    Targets t = new Targets();
    long delivered = dispatcher.get("delivered_per_s").asLong();
    JsonNode ms = dispatcher.get("latency_ms");
    switch (scenario.name()) {
      case "throughput" -> {
        t.atLeast("deliveries/s sustained", delivered, 25_000);
        baseline.ifPresent(b -> t.times("deliveries/s against the baseline", delivered, b, 3));
      }
      case "latency" -> {
        t.atMost("p50 ms", ms.get("p50").asDouble(), 10);
        t.atMost("p99 ms", ms.get("p99").asDouble(), 50);
      }
      case "slow-receivers" -> {
        t.atLeast("deliveries/s", delivered, 10_000);
        baseline.ifPresent(b -> t.times("deliveries/s against the baseline", delivered, b, 20));
      }
      case "isolation" -> {
        double healthyOffered = scenario.ratePerSecond() * healthyShare(scenario);
        t.atLeast("healthy endpoints' deliveries/s (99% of the rate offered to them)", delivered,
            Math.floor(healthyOffered * 0.99));
        t.atLeast("each healthy endpoint's deliveries/s, % of the rate offered to it",
            100 * dispatcher.path("least_endpoint_share_of_its_rate").asDouble(), 99);
        latency.ifPresent(l -> {
          double theirs = l.get("latency_ms").get("p99").asDouble();
          t.atMost("healthy endpoints' p99 ms (2x the latency run's " + number(theirs) + ")", ms.get("p99").asDouble(),
              2 * theirs);
          t.atMost("the worst p99 of one healthy endpoint, ms (2x the same)",
              dispatcher.get("worst_endpoint_p99_ms").asDouble(), 2 * theirs);
        });
        t.atMost("longest commit stall s", dispatcher.get("max_commit_stall_s").asDouble(), 10);
      }
      case "backlog" -> {
        t.atLeast("deliveries/s", delivered, 40_000);
        t.atMost("peak RSS MiB", dispatcher.get("rss_mb").asDouble(), MAX_RSS_MIB);
      }
      default -> { } // smoke: only that nothing is lost
    }
    t.atMost("start-up to ready s", dispatcher.get("start_to_ready_s").asDouble(), MAX_READY_S);
    t.atMost("events lost", dispatcher.get("lost").asLong(), 0);
    return List.copyOf(t.verdicts);
  }

  /** The verdicts as lines for the console, one per target. */
  static String lines(List<Verdict> verdicts) {
    StringBuilder b = new StringBuilder("Targets of issue 6 (dispatcher):\n");
    for (Verdict v : verdicts) {
      b.append(String.format(Locale.ROOT, "  %-7s %-75s %s%n", v.met() ? "met" : "NOT MET", v.target(), v.measured()));
    }
    return b.toString();
  }

  private static double healthyShare(Scenario scenario) {
    int healthy = 0;
    for (int endpoint = 0; endpoint < Workload.ENDPOINTS; endpoint++) {
      healthy += scenario.healthy(endpoint) ? 1 : 0;
    }
    return (double) healthy / Workload.ENDPOINTS;
  }

  private void atLeast(String what, double measured, double floor) {
    verdicts.add(new Verdict(what + " >= " + number(floor), number(measured), measured >= floor));
  }

  private void atMost(String what, double measured, double ceiling) {
    verdicts.add(new Verdict(what + " <= " + number(ceiling), number(measured), measured <= ceiling));
  }

  private void times(String what, double measured, JsonNode baseline, double factor) {
    double theirs = baseline.get("delivered_per_s").asDouble();
    double ratio = theirs == 0 ? Double.POSITIVE_INFINITY : measured / theirs;
    verdicts.add(new Verdict(what + " >= " + number(factor) + "x",
        String.format(Locale.ROOT, "%.1fx (%s against %s)", ratio, number(measured), number(theirs)),
        ratio >= factor));
  }

  private static String number(double value) {
    return value == Math.rint(value) && !Double.isInfinite(value)
        ? String.format(Locale.ROOT, "%,d", (long) value)
        : String.format(Locale.ROOT, "%,.1f", value);
  }
}
