package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import io.vertx.core.Vertx;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's {@code prometheus}, installed by {@code .ci/run}) scrapes a running dispatcher that
 * delivers, retries and dead-letters traffic, and loads {@code deploy/prometheus/alerts.yml}. Then every PromQL
 * expression of the Grafana dashboard and of the alert rules is evaluated through Prometheus's HTTP API and must
 * return data. Skipped when no {@code prometheus} binary is on the PATH.
 */
class PrometheusIT {
  private static final Path DASHBOARD = Path.of("deploy", "grafana", "dashboards", "webhook-dispatcher.json");
  private static final Path ALERTS = Path.of("deploy", "prometheus", "alerts.yml");
  /** Short enough for a test, long enough to hold several 1 s scrapes. */
  private static final String RATE_WINDOW = "1m";
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path work;
  private static Vertx vertx;
  private static RunningService service;
  private static TestReceiver receiver;
  private static Process prometheus;
  private static String prometheusUrl;

  @BeforeAll
  static void start() throws Exception {
    Optional<Path> binary = onPath("prometheus");
    Assumptions.assumeTrue(binary.isPresent(), "no prometheus binary on the PATH (apt-get install prometheus)");

    vertx = Vertx.vertx();
    service = RunningService.start(Map.of("RETRY_BASE_DELAY_MS", "100"));
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    receiver.enqueue(500, 500, 503, 503, 503, 503); // some retries, and dead letters for the webhook without retries
    String retried = install(2, "/retried");
    String once = install(0, "/once");

    int port = freePort();
    Path config = work.resolve("prometheus.yml");
    Files.writeString(config, """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        rule_files:
          - %s
        scrape_configs:
          - job_name: webhook-dispatcher
            static_configs:
              - targets: ['localhost:%d']
        """.formatted(ALERTS.toAbsolutePath(), service.service().managementPort()));
    prometheus = new ProcessBuilder(binary.get().toString(),
        "--config.file=" + config,
        "--storage.tsdb.path=" + work.resolve("data"),
        "--web.listen-address=127.0.0.1:" + port)
        .redirectErrorStream(true)
        .redirectOutput(work.resolve("prometheus.log").toFile())
        .start();
    prometheusUrl = "http://127.0.0.1:" + port;
    await().atMost(Duration.ofSeconds(60)).until(() -> status("/-/ready") == 200);

    // Traffic while Prometheus watches: counters move between scrapes, so every rate has something to show.
    for (int i = 0; i < 20; i++) {
      publish(i % 2 == 0 ? retried : once);
    }
    service.publish(null, "no-account", Events.bytes("{}")); // rejected at intake: a dead letter of another reason
    service.awaitAllCommitted();
  }

  @AfterAll
  static void stop() throws Exception {
    if (prometheus != null) {
      prometheus.destroy();
      if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
        prometheus.destroyForcibly();
      }
    }
    if (service != null) {
      service.close();
      receiver.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void everyDashboardQueryReturnsData() throws Exception {
    List<String> expressions = dashboardExpressions();
    assertThat(expressions).hasSizeGreaterThan(15);
    for (String expression : expressions) {
      String query = expression.replace("$__rate_interval", RATE_WINDOW).replace("$event_type", ".*");
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
          .untilAsserted(() -> assertThat(query(query)).as(query).isNotEmpty());
    }
  }

  @Test
  void everyAlertRuleIsHealthyAndItsExpressionReturnsData() throws Exception {
    JsonNode groups = new YAMLMapper().readTree(ALERTS.toFile()).get("groups");
    List<String> names = new ArrayList<>();
    for (JsonNode group : groups) {
      for (JsonNode rule : group.get("rules")) {
        names.add(rule.get("alert").asText());
        // The threshold decides whether it fires; with "bool" the same expression shows its value either way.
        String query = asBool(rule.get("expr").asText()).replace("[10m]", "[" + RATE_WINDOW + "]")
            .replace("[15m]", "[" + RATE_WINDOW + "]");
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
            .untilAsserted(() -> assertThat(query(query)).as(query).isNotEmpty());
      }
    }
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      JsonNode rules = get("/api/v1/rules").get("data").get("groups").get(0).get("rules");
      assertThat(rules).extracting(r -> r.get("name").asText()).containsExactlyElementsOf(names);
      assertThat(rules).allSatisfy(r -> assertThat(r.get("health").asText()).as(r.get("name").asText()).isEqualTo("ok"));
    });
  }

  @Test
  void consumerLagIsReportedPerPartition() throws Exception {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
        query("count by (partition) (kafka_consumer_fetch_manager_records_lag{topic=\"" + service.eventsTopic() + "\"})"))
        .hasSize(3));
  }

  /** {@code a > 0.25} becomes {@code a > bool 0.25}: 0 or 1 for every series instead of only the firing ones. */
  static String asBool(String expr) {
    return expr.replaceAll(" (>|<|==|!=|>=|<=) (?!bool )", " $1 bool ");
  }

  private static List<String> dashboardExpressions() throws IOException {
    List<String> expressions = new ArrayList<>();
    for (JsonNode panel : JSON.readTree(DASHBOARD.toFile()).get("panels")) {
      for (JsonNode target : panel.path("targets")) {
        expressions.add(target.get("expr").asText());
      }
    }
    return expressions;
  }

  private static JsonNode query(String promql) throws Exception {
    JsonNode answer = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    assertThat(answer.get("status").asText()).as(promql + " -> " + answer).isEqualTo("success");
    return answer.get("data").get("result");
  }

  private static JsonNode get(String path) throws Exception {
    HttpResponse<String> response =
        HTTP.send(HttpRequest.newBuilder(URI.create(prometheusUrl + path)).build(), HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(response.body());
  }

  private static int status(String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(prometheusUrl + path)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      assertThat(prometheus.isAlive()).as("prometheus exited; see " + work.resolve("prometheus.log")).isTrue();
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static String install(int maxRetries, String path) {
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    service.install(account, """
        {"client_name": "prometheus-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": %d}}}}
        """.formatted(receiver.url(path), maxRetries));
    return account;
  }

  private static void publish(String account) {
    String conversation = UUID.randomUUID().toString();
    service.publish(account, conversation, Events.bytes(Events.content(conversation, "watched")));
  }

  private static Optional<Path> onPath(String name) {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .map(dir -> Path.of(dir, name))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /** A port free right now; Prometheus binds it a moment later (it has no "port 0, tell me" mode). */
  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
