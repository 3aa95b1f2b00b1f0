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
 * when that broker stops, and is ready again when the broker comes back on the same port with the same data. Liveness
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

  private static int status(int port, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static double gauge(int port) throws Exception {
    String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return new Scrape(text).sum("webhook_ready");
  }
}
