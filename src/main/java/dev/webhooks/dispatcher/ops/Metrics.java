package dev.webhooks.dispatcher.ops;

import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.delivery.DeliveryListener;
import dev.webhooks.dispatcher.delivery.DeliveryOutcome;
import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.install.WebhookKeys;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The product's own meters (DESIGN 1.6), fed by what really happens. Labels are low cardinality by construction:
 * event type, outcome, status class and reason words only, never an endpoint, event or account id.
 */
public final class Metrics implements DeliveryListener {
  private static final Duration[] LATENCY_SLOS = {
    Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
    Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
    Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120), Duration.ofSeconds(300)
  };

  private final MeterRegistry registry;
  private final Clock clock;
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();
  private final Map<CounterKey, Counter> counters = new ConcurrentHashMap<>();
  private final Timer attemptDuration;
  private final Timer latency;
  private final Counter deferrals;

  public Metrics(MeterRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
    registry.gauge("webhook.deliveries.in.flight", inFlight);
    Gauge.builder("webhook.delivery.connections", connections, AtomicLong::get)
        .description("Open connections to receivers, over every delivery lane")
        .register(registry);
    this.attemptDuration =
        Timer.builder("webhook.delivery.attempt.duration")
            .description("Time from sending a webhook request to its outcome")
            .serviceLevelObjectives(LATENCY_SLOS)
            .register(registry);
    this.latency =
        Timer.builder("webhook.delivery.latency")
            .description("Time from the Kafka record's timestamp to the receiver accepting it")
            .serviceLevelObjectives(LATENCY_SLOS)
            .register(registry);
    // registered at once, so a dashboard shows 0 rather than no data before the first deferral
    this.deferrals =
        Counter.builder("webhook.delivery.deferrals")
            .description("Attempts held back for want of a free connection to an endpoint that answers; not attempts")
            .register(registry);
  }

  /**
   * Reports installations by state ({@code enabled}, {@code disabled}, {@code unreadable}: written with another secrets
   * key, its account's events held) from the view, read at each scrape. Every state is there from the start, at 0, so
   * an alert on one has data.
   */
  public void installations(Supplier<Map<String, Long>> byState) {
    for (String state : new String[] {"enabled", "disabled", "unreadable"}) {
      Gauge.builder("webhook.installations", () -> byState.get().getOrDefault(state, 0L))
          .tag("state", state)
          .register(registry);
    }
  }

  /**
   * {@code webhook_ready}: 1 while {@code /health/ready} would answer 200, else 0. Prometheus cannot call the probe, so
   * the "not ready" alert reads this gauge.
   */
  public void readiness(BooleanSupplier ready) {
    Gauge.builder("webhook.ready", () -> ready.getAsBoolean() ? 1 : 0)
        .description("1 when the instance is ready (Kafka reachable, installations caught up), else 0")
        .register(registry);
  }

  /** A record left the intake: {@code routed}, {@code unrouted} (no subscribed app) or {@code rejected}. */
  public void eventConsumed(String result) {
    counter("webhook.events.consumed", "result", result).increment();
  }

  @Override
  public void started(Delivery delivery) {
    inFlight.incrementAndGet();
  }

  /**
   * Counts every attempt; its duration only when a request was made (an open circuit refuses without one). An attempt
   * held back for want of a free connection is not one: it is {@link DeliveryListener#deferred deferred}, not counted
   * here (it spends none of {@code max_retries}, and would raise the failure ratio of an endpoint that is only busy),
   * and shows as a retry scheduled.
   */
  @Override
  public void attempted(Delivery delivery, int attempt, DeliveryOutcome outcome, Duration took) {
    counter("webhook.delivery.attempts", "event_type", delivery.eventType(), "status_class", outcome.statusClass())
        .increment();
    if (!DeliveryOutcome.CIRCUIT_OPEN.equals(outcome.statusClass())) {
      attemptDuration.record(took);
    }
  }

  /**
   * {@code webhook_delivery_deferrals_total}: attempts held back for want of a free connection to an endpoint that
   * answers. Not failures, so not in the attempts; their rise says endpoints are slower than their connections allow.
   */
  @Override
  public void deferred(Delivery delivery, int attempt, int deferral, DeliveryOutcome heldBack) {
    deferrals.increment();
  }

  @Override
  public void resumed(Retry retry) {
    inFlight.incrementAndGet();
  }

  /** The delivery waits in the retry topic now: no longer in this instance's hands until it is resumed. */
  @Override
  public void retryScheduled(Delivery delivery, int attempt, Duration delay) {
    inFlight.decrementAndGet();
    counter("webhook.retries.scheduled").increment();
  }

  @Override
  public void delivered(Delivery delivery, int attempts) {
    inFlight.decrementAndGet();
    counter("webhook.deliveries", "event_type", delivery.eventType(), "outcome", "delivered").increment();
    long sinceRecord = clock.millis() - delivery.source().timestamp();
    latency.record(Duration.ofMillis(Math.max(0, sinceRecord)));
  }

  @Override
  public void deadLettered(DeadLetter deadLetter) {
    counter("webhook.dead.letters", "reason", deadLetter.reason()).increment();
    if (!deadLetter.clientId().isEmpty()) {
      inFlight.decrementAndGet();
      String eventType = WebhookKeys.eventType(deadLetter.webhookKey());
      counter("webhook.deliveries", "event_type", eventType, "outcome", "dead_lettered").increment();
    }
  }

  @Override
  public void connectionsChanged(int delta) {
    connections.addAndGet(delta);
  }

  /** Looked up per delivery, so the key only wraps its strings (whose hashes they cache) instead of joining them. */
  private Counter counter(String name, String... tags) {
    Function<CounterKey, Counter> create = k -> Counter.builder(name).tags(tags).register(registry);
    return counters.computeIfAbsent(new CounterKey(name, Arrays.asList(tags)), create);
  }

  private record CounterKey(String name, List<String> tags) {}
}
