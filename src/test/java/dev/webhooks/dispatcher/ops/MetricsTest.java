package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.delivery.DeliveryOutcome;
import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.delivery.Source;
import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.Webhook;
import dev.webhooks.dispatcher.install.WebhookKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class MetricsTest {
  private static final Webhook WEBHOOK = new Webhook("https://hooks.example.com/x", 5, List.of());
  private static final Delivery DELIVERY = new Delivery("msg_1",
      new Installation("client", "acc", true, Map.of(WebhookKeys.CONTENT, WEBHOOK), List.of("s"),
          JsonNodeFactory.instance.objectNode(), 0, "1"),
      WebhookKeys.CONTENT, WEBHOOK, Buffer.buffer("{}"), new Source("events", 0, 7, 0));

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Metrics metrics = new Metrics(registry, Clock.systemUTC());

  @Test
  void anAttemptRefusedByAnOpenCircuitIsCountedButHasNoDuration() {
    metrics.attempted(DELIVERY, 1, failure("timeout"), Duration.ofSeconds(5));
    metrics.attempted(DELIVERY, 2, failure(DeliveryOutcome.CIRCUIT_OPEN), Duration.ZERO);

    assertThat(registry.get("webhook.delivery.attempts").tag("status_class", "circuit-open").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("webhook.delivery.attempt.duration").timer().count()).isEqualTo(1);
  }

  @Test
  void aDeliveryWaitingInTheRetryTopicIsNotInFlightHere() {
    metrics.started(DELIVERY);
    metrics.retryScheduled(DELIVERY, 2, Duration.ofSeconds(2));
    assertThat(inFlight()).isZero();

    metrics.resumed(new Retry("acc", "client", WebhookKeys.CONTENT, "msg_1", WEBHOOK.endpoint(), 1, 0, 0,
        OptionalInt.empty(), "timeout", DELIVERY.source(), DELIVERY.body()));
    assertThat(inFlight()).isEqualTo(1);
    metrics.delivered(DELIVERY, 2);
    assertThat(inFlight()).isZero();
  }

  @Test
  void aDeferralIsCountedOnItsOwnAndIsNoAttempt() {
    metrics.deferred(DELIVERY, 1, 1, failure(DeliveryOutcome.NO_FREE_CONNECTION));
    metrics.deferred(DELIVERY, 1, 2, failure(DeliveryOutcome.NO_FREE_CONNECTION));

    assertThat(registry.get("webhook.delivery.deferrals").counter().count()).isEqualTo(2);
    assertThat(registry.find("webhook.delivery.attempts").counters()).isEmpty();
  }

  private double inFlight() {
    return registry.get("webhook.deliveries.in.flight").gauge().value();
  }

  private static DeliveryOutcome failure(String reason) {
    return new DeliveryOutcome.RetryableFailure(OptionalInt.empty(), reason, "hooks.example.com: " + reason,
        Optional.empty());
  }
}
