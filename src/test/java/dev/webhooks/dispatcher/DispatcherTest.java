package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.delivery.Courier;
import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.DeliveryListener;
import dev.webhooks.dispatcher.delivery.Outbox;
import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.install.InstallationView;
import dev.webhooks.dispatcher.testing.NoInstallations;
import dev.webhooks.dispatcher.intake.EventConsumer;
import dev.webhooks.dispatcher.intake.EventDecoder;
import dev.webhooks.dispatcher.ops.Metrics;
import dev.webhooks.dispatcher.routing.Router;
import dev.webhooks.dispatcher.testing.RefusingConsumer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the dispatcher tells readiness ({@link Service#isReady} asks {@link Dispatcher#isConsuming}). */
class DispatcherTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void closeVertx() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void isNotConsumingWhileKafkaRefusesTheTopicsAndIsAgainOnceTheyAreGranted() throws Exception {
    RefusingConsumer kafka = new RefusingConsumer(new TopicAuthorizationException(Set.of("events")));
    Dispatcher dispatcher = Dispatcher.deploy(vertx, 1, this::lane).await(10, TimeUnit.SECONDS);
    dispatcher.start(new EventConsumer(kafka, List.of("events"), new EventDecoder(1 << 20, List.of()), dispatcher, 100,
        Duration.ofMinutes(1)));
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !kafka.attempts.isEmpty());
      await().atMost(Duration.ofSeconds(10)).until(() -> !dispatcher.isConsuming());

      kafka.failure = null;

      await().atMost(Duration.ofSeconds(20)).until(dispatcher::isConsuming);
    } finally {
      dispatcher.drain(Duration.ZERO).await(20, TimeUnit.SECONDS);
    }
  }

  private Lane lane() {
    InstallationView nothingInstalled = new NoInstallations();
    Outbox refusing = new Outbox() {
      @Override
      public Future<Void> deadLetter(DeadLetter deadLetter) {
        return Future.failedFuture(new IllegalStateException("no dead letters in this test"));
      }

      @Override
      public Future<Void> retry(Retry retry, int tier) {
        return Future.failedFuture(new IllegalStateException("no retries in this test"));
      }
    };
    return new Lane(new Router(nothingInstalled),
        Courier.create(vertx, Config.fromEnv(Map.of()), refusing, DeliveryListener.NONE),
        new Metrics(new SimpleMeterRegistry(), Clock.systemUTC()));
  }
}
