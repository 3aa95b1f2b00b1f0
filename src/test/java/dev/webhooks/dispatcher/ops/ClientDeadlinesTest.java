package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.testing.TestConnection;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real servers on port 0, held to short deadlines, and raw connections that misbehave as slow-loris clients do. */
class ClientDeadlinesTest {
  private static final Duration SHORT = Duration.ofMillis(400);
  private static final Duration LONG = Duration.ofSeconds(30);
  private static final Duration DRIBBLE = Duration.ofMillis(50);
  private static final String GET = "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void closesAConnectionThatSendsNothing() throws Exception {
    int port = apiLike(new ClientDeadlines(SHORT, LONG));
    try (TestConnection connection = TestConnection.open(vertx, port)) {
      Duration open = connection.awaitClosed(Duration.ofSeconds(5));

      assertThat(open).isGreaterThanOrEqualTo(SHORT.minusMillis(50));
      assertThat(connection.received()).isEmpty();
    }
  }

  @Test
  void closesAKeptAliveConnectionThatFallsSilentAfterItsResponse() throws Exception {
    int port = apiLike(new ClientDeadlines(SHORT, LONG));
    try (TestConnection connection = TestConnection.open(vertx, port)) {
      connection.send(GET);

      connection.awaitClosed(Duration.ofSeconds(5));
      assertThat(connection.received()).startsWith("HTTP/1.1 200 OK").endsWith("hi");
    }
  }

  @Test
  void closesAConnectionDribblingItsHeadThoughItIsNeverIdle() throws Exception {
    int port = apiLike(new ClientDeadlines(LONG, SHORT));
    try (TestConnection connection = TestConnection.open(vertx, port)) {
      connection.dribble(headThatNeverEnds(), DRIBBLE);

      Duration open = connection.awaitClosed(Duration.ofSeconds(5));

      assertThat(open).isGreaterThanOrEqualTo(SHORT.minusMillis(50));
      assertThat(connection.dribbled()).isGreaterThan(1); // bytes kept coming (a loaded machine skips ticks)
      assertThat(connection.received()).isEmpty();
    }
  }

  @Test
  void closesAConnectionDribblingItsBody() throws Exception {
    int port = apiLike(new ClientDeadlines(LONG, SHORT));
    try (TestConnection connection = TestConnection.open(vertx, port)) {
      connection.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n");
      connection.dribble("x".repeat(1000), DRIBBLE);

      connection.awaitClosed(Duration.ofSeconds(5));

      assertThat(connection.dribbled()).isGreaterThan(1).isLessThan(1000);
      assertThat(connection.received()).doesNotContain("200 OK");
    }
  }

  @Test
  void closesAKeptAliveConnectionDribblingItsNextHead() throws Exception {
    Duration idle = Duration.ofSeconds(1);
    int port = apiLike(new ClientDeadlines(idle, LONG));
    try (TestConnection connection = TestConnection.open(vertx, port)) {
      connection.send(GET);
      connection.awaitResponses(1, Duration.ofSeconds(5));
      connection.dribble(headThatNeverEnds(), DRIBBLE);

      // a kept-alive connection has the idle timeout from its last response to send the next head whole
      Duration open = connection.awaitClosed(Duration.ofSeconds(5));

      assertThat(open).isGreaterThanOrEqualTo(idle.minusMillis(50));
      assertThat(connection.dribbled()).isGreaterThan(1); // bytes kept coming (a loaded machine skips ticks)
      assertThat(connection.received().split("HTTP/1.1 ", -1)).hasSize(2); // the first response only
    }
  }

  @Test
  void answersRequestsOnAKeptAliveConnectionThatWaitsLongerThanTheRequestDeadline() throws Exception {
    int port = apiLike(new ClientDeadlines(Duration.ofSeconds(5), SHORT));
    try (TestConnection connection = TestConnection.open(vertx, port)) {
      connection.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
      connection.awaitResponses(1, Duration.ofSeconds(5));
      connection.sendAfter(SHORT.multipliedBy(2), GET);

      String received = connection.awaitResponses(2, Duration.ofSeconds(5));

      assertThat(received).startsWith("HTTP/1.1 200 OK").contains("5 bytes").endsWith("hi");
      assertThat(connection.isClosed()).isFalse();
    }
  }

  @Test
  void refusesAnOversizedHeadWith431AndCloses() throws Exception {
    int port = apiLike(new ClientDeadlines(LONG, LONG));
    try (TestConnection connection = TestConnection.open(vertx, port)) {
      connection.send("GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n");

      connection.awaitClosed(Duration.ofSeconds(5));
      assertThat(connection.received()).startsWith("HTTP/1.1 431 ");
    }
  }

  @Test
  void refusesAnOversizedRequestLineWith414AndCloses() throws Exception {
    int port = apiLike(new ClientDeadlines(LONG, LONG));
    try (TestConnection connection = TestConnection.open(vertx, port)) {
      connection.send("GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");

      connection.awaitClosed(Duration.ofSeconds(5));
      assertThat(connection.received()).startsWith("HTTP/1.0 414 "); // Netty cannot tell the version of a cut line
    }
  }

  @Test
  void managementServerAnswersScrapesOnAKeptAliveConnectionAndClosesASilentOne() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.counter("scrape_test_total").increment();
    HttpServer server = new ManagementServer(vertx, registry, () -> true, new ClientDeadlines(SHORT, SHORT))
        .listen(0).await(5, TimeUnit.SECONDS);
    try (TestConnection scraper = TestConnection.open(vertx, server.actualPort());
        TestConnection silent = TestConnection.open(vertx, server.actualPort())) {
      scraper.send("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\nGET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n");

      String received = scraper.awaitResponses(2, Duration.ofSeconds(5));

      assertThat(received).startsWith("HTTP/1.1 200 OK").contains("scrape_test_total 1.0").endsWith("{\"status\":\"UP\"}");
      silent.awaitClosed(Duration.ofSeconds(5));
    }
  }

  /** A request line and a header that goes on far longer than any test runs. */
  private static String headThatNeverEnds() {
    return "GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + "a".repeat(4000);
  }

  /** A server shaped like the install API: a vertx-web router with a body handler. */
  private int apiLike(ClientDeadlines deadlines) throws Exception {
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create(false).setBodyLimit(64 * 1024));
    router.post("/echo").handler(ctx -> ctx.response().end(ctx.body().length() + " bytes"));
    router.get("/hello").handler(ctx -> ctx.response().end("hi"));
    return deadlines.server(vertx, router).listen(0).await(5, TimeUnit.SECONDS).actualPort();
  }
}
