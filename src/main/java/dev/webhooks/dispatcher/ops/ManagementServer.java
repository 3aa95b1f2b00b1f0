package dev.webhooks.dispatcher.ops;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.function.BooleanSupplier;

/**
 * The operators' port: {@code /metrics} in Prometheus text format, {@code /health/live} (the process answers) and
 * {@code /health/ready} (200 only when Kafka is reachable and the installations view has caught up).
 */
public final class ManagementServer {
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final Vertx vertx;
  private final PrometheusMeterRegistry registry;
  private final BooleanSupplier ready;
  private final ClientDeadlines deadlines;
  /**
   * A scrape runs on a thread of its own, not in the shared worker pool: DNS lookups queue there,
   * and a scrape waiting behind them under load would miss Prometheus's scrape timeout just when it matters.
   */
  private final WorkerExecutor scraper;

  public ManagementServer(Vertx vertx, PrometheusMeterRegistry registry, BooleanSupplier ready,
      ClientDeadlines deadlines) {
    this.vertx = vertx;
    this.registry = registry;
    this.ready = ready;
    this.deadlines = deadlines;
    this.scraper = vertx.createSharedWorkerExecutor("metrics-scrape", 1);
  }

  public Future<HttpServer> listen(int port) {
    return deadlines.server(vertx, this::handle).listen(port);
  }

  private void handle(HttpServerRequest request) {
    switch (request.path()) {
      case "/metrics" -> scraper
          .executeBlocking(registry::scrape, false)
          .onSuccess(text -> request.response().putHeader("Content-Type", PROMETHEUS_TEXT).end(text))
          .onFailure(e -> request.response().setStatusCode(500).end(String.valueOf(e.getMessage())));
      case "/health/live" -> json(request, 200, "UP");
      case "/health/ready" -> {
        boolean up = ready.getAsBoolean();
        json(request, up ? 200 : 503, up ? "UP" : "DOWN");
      }
      default -> request.response().setStatusCode(404).end();
    }
  }

  private static void json(HttpServerRequest request, int status, String state) {
    request
        .response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end("{\"status\":\"" + state + "\"}");
  }
}
