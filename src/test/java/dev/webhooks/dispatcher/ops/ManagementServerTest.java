package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ManagementServerTest {
  private static final ClientDeadlines DEADLINES = new ClientDeadlines(Duration.ofSeconds(75), Duration.ofSeconds(10));

  /** Every shared worker is busy (as with a burst of DNS lookups), and /metrics still answers at once. */
  @Test
  void answersAScrapeWhileEverySharedWorkerIsBusy() throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(2));
    CountDownLatch release = new CountDownLatch(1);
    List<Future<Void>> busy = new ArrayList<>();
    try {
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      registry.counter("scrape_test_total").increment();
      HttpServer server = new ManagementServer(vertx, registry, () -> true, DEADLINES).listen(0).await(5, TimeUnit.SECONDS);
      for (int i = 0; i < 4; i++) { // more than the pool holds, so some also wait in its queue
        busy.add(vertx.executeBlocking(() -> {
          release.await();
          return null;
        }, false));
      }
      String text = WebClient.create(vertx).get(server.actualPort(), "localhost", "/metrics").send()
          .await(5, TimeUnit.SECONDS).bodyAsString();
      assertThat(text).contains("scrape_test_total 1.0");
    } finally {
      release.countDown();
      Future.join(busy).await(5, TimeUnit.SECONDS);
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Java's HttpClient offers an h2c upgrade on plain http by default; the port declines it and answers in HTTP/1.1. */
  @Test
  void answersAClientOfferingAnH2cUpgradeInHttp11() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      HttpServer server = new ManagementServer(vertx, registry, () -> true, DEADLINES).listen(0).await(5, TimeUnit.SECONDS);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();

      HttpResponse<String> live = http.sendAsync(
          HttpRequest.newBuilder(URI.create("http://localhost:" + server.actualPort() + "/health/live")).build(),
          HttpResponse.BodyHandlers.ofString()).get(10, TimeUnit.SECONDS);

      assertThat(live.statusCode()).isEqualTo(200);
      assertThat(live.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
