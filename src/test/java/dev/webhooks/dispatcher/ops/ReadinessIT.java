package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.Service;
import dev.webhooks.dispatcher.broker.EmbeddedKafka;
import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.ServiceProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readiness follows Kafka: a service on a broker of its own is ready, drops to 503 (and {@code webhook_ready} to 0)
 * when that broker stops, and is ready again when the broker comes back on the same port with the same data; a service
 * started while its Kafka is unreachable is live and not ready, {@code webhook_ready} 0, until Kafka answers. Liveness
 * stays 200 throughout: an orchestrator must stop sending traffic, not restart the pod.
 */
class ReadinessIT {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path data;

  @Test
  void readinessDropsWhileKafkaIsUnreachableAndReturnsWithIt() throws Exception {
    int port = ServiceProcess.freePort();
    EmbeddedKafka broker = new EmbeddedKafka(data, port);
    String bootstrap = broker.start();
    Map<String, String> env = RunningService.environment("ready");
    env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
    env.put("TOPIC_PARTITIONS", "1");
    Service service = Service.start(Config.fromEnv(env));
    try {
      int management = service.managementPort();
      await().atMost(Duration.ofSeconds(30)).until(() -> status(management, "/health/ready") == 200);
      assertThat(gauge(management)).isEqualTo(1);

      broker.close();
      await().atMost(Duration.ofSeconds(30)).until(() -> status(management, "/health/ready") == 503);
      assertThat(status(management, "/health/live")).isEqualTo(200);
      assertThat(gauge(management)).isZero();

      broker = new EmbeddedKafka(data, port);
      broker.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> status(management, "/health/ready") == 200);
      assertThat(gauge(management)).isEqualTo(1);
    } finally {
      service.stop();
      broker.close();
    }
  }

  /** A service whose polling thread has died consumes nothing: it must say so, not stay ready. */
  @Test
  void readinessDropsWhenTheEventConsumerStops() throws Exception {
    try (RunningService service = RunningService.start(Map.of())) {
      int management = service.service().managementPort();
      await().atMost(Duration.ofSeconds(30)).until(() -> status(management, "/health/ready") == 200);

      Thread.getAllStackTraces().keySet().stream()
          .filter(thread -> thread.getName().equals("event-consumer") && thread.isAlive())
          .forEach(Thread::interrupt);

      await().atMost(Duration.ofSeconds(30)).until(() -> status(management, "/health/ready") == 503);
      assertThat(status(management, "/health/live")).isEqualTo(200);
      assertThat(gauge(management)).isZero();
    }
  }

  /**
   * A service whose Kafka never answers waits in its start-up, live and not ready: {@code webhook_ready} must be there
   * as 0 all along, or the alert on it never fires for the fleet that needs it.
   */
  @Test
  void readinessGaugeIsZeroWhileTheStartWaitsForKafka() throws Exception {
    Map<String, String> env = RunningService.environment("stuck");
    env.put("KAFKA_BOOTSTRAP_SERVERS", "localhost:" + ServiceProcess.freePort()); // nothing listens there
    int[] ports = ServiceProcess.freePorts(2);
    env.put("HTTP_PORT", String.valueOf(ports[0]));
    env.put("MANAGEMENT_PORT", String.valueOf(ports[1]));
    try (ServiceProcess service = ServiceProcess.launch("readiness-stuck", env)) {
      int management = ports[1];
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .failFast("the service exited", () -> !service.isAlive())
          .until(() -> service.status("/health/live") == 200);

      assertThat(service.status("/health/ready")).isEqualTo(503);
      assertThat(scrape(management).values("webhook_ready", Map.of())).containsExactly(0.0);
    }
  }

  private static int status(int port, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static double gauge(int port) throws Exception {
    return scrape(port).sum("webhook_ready");
  }

  private static Scrape scrape(int port) throws Exception {
    return new Scrape(HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body());
  }
}
