package dev.webhooks.dispatcher.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real HTTPS webhook receiver on an ephemeral port of 127.0.0.1 (or another local address). It answers each request with the next scripted
 * {@link Response} (200, or {@link #answerByDefault}, when the script is empty) and records every request it receives.
 * Start it from a test thread, not an event loop: {@link #start} waits until it listens.
 */
public final class TestReceiver implements AutoCloseable {
  private final Vertx vertx;
  private final HttpServer server;
  private final Deque<Response> script = new ArrayDeque<>();
  private final List<ReceivedRequest> requests = new ArrayList<>();
  private Response byDefault = Response.ok();

  /**
   * One request as it arrived.
   *
   * @param uri the path and query, as sent
   * @param body the exact body bytes
   * @param arrivedAt when its head arrived
   * @param remoteAddress the client's {@code address:port}: equal for requests that shared a kept-alive connection
   * @param answer the scripted answer it was given
   */
  public record ReceivedRequest(
      String method, String uri, MultiMap headers, Buffer body, Instant arrivedAt, String remoteAddress,
      Response answer) {
    /** A header's value (names are case-insensitive), or null. */
    public String header(String name) {
      return headers.get(name);
    }

    /** Whether it was answered 200 or 201 promptly and completely: a delivery the dispatcher saw succeed. */
    public boolean answeredOkWithin(Duration timeout) {
      return (answer.status() == 200 || answer.status() == 201) && !answer.closeConnection()
          && answer.dribble() == null && answer.delay().compareTo(timeout.dividedBy(2)) < 0;
    }
  }

  /**
   * A scripted answer: a status after a delay, or one of the misbehaviours a receiver can show.
   *
   * @param dribble when set, the status and headers are sent at once and then one body byte per this interval, forever
   */
  public record Response(
      int status, Duration delay, Map<String, String> headers, String body, boolean closeConnection, Duration dribble) {
    public static Response status(int status) {
      return new Response(status, Duration.ZERO, Map.of(), "", false, null);
    }

    public static Response ok() {
      return status(200);
    }

    /** Answers only after {@code delay} (a timer: the receiver keeps serving other requests meanwhile). */
    public static Response delayed(Duration delay, int status) {
      return new Response(status, delay, Map.of(), "", false, null);
    }

    /** A 302 to {@code location}, which a dispatcher must not follow. */
    public static Response redirect(String location) {
      return new Response(302, Duration.ZERO, Map.of("Location", location), "", false, null);
    }

    /** Closes the connection without answering. */
    public static Response reset() {
      return new Response(0, Duration.ZERO, Map.of(), "", true, null);
    }

    /** Sends the status and headers, then one byte of body per {@code interval} and never finishes (slow-loris). */
    public static Response dribble(int status, Duration interval) {
      return new Response(status, Duration.ZERO, Map.of(), "", false, interval);
    }

    /** A 429 or 503 with a Retry-After header (delta seconds or an HTTP-date). */
    public static Response retryAfter(int status, String retryAfter) {
      return new Response(status, Duration.ZERO, Map.of("Retry-After", retryAfter), "", false, null);
    }

    public Response withBody(String text) {
      return new Response(status, delay, headers, text, closeConnection, dribble);
    }
  }

  private TestReceiver(Vertx vertx, HttpServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /** Starts a receiver serving {@code leaf} (e.g. {@code TestCertificates.shared().localhost()}). */
  public static TestReceiver start(Vertx vertx, TestCertificates.Leaf leaf) {
    return start(vertx, leaf, 0);
  }

  /** As {@link #start(Vertx, TestCertificates.Leaf)} on a given port: a receiver coming back where it was. */
  public static TestReceiver start(Vertx vertx, TestCertificates.Leaf leaf, int port) {
    return start(vertx, leaf, "127.0.0.1", port);
  }

  /** As {@link #start(Vertx, TestCertificates.Leaf, int)} on another local address, e.g. {@code ::1}. */
  public static TestReceiver start(Vertx vertx, TestCertificates.Leaf leaf, String address, int port) {
    HttpServerOptions options = new HttpServerOptions()
        .setSsl(true).setKeyCertOptions(leaf.keyCertOptions()).setHost(address).setPort(port).setReuseAddress(true);
    HttpServer server = vertx.createHttpServer(options);
    TestReceiver receiver = new TestReceiver(vertx, server);
    server.requestHandler(receiver::handle);
    try {
      server.listen().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the test receiver did not start", e);
    }
    return receiver;
  }

  /** Whether a server can listen on {@code address} here: {@code ::1} needs IPv6 on the loopback interface. */
  public static boolean canListenOn(String address) {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(address))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Queues answers for the next requests, in order. */
  public synchronized TestReceiver enqueue(Response... responses) {
    script.addAll(List.of(responses));
    return this;
  }

  /** Queues the same answer for each status, e.g. {@code enqueue(500, 500, 200)}. */
  public TestReceiver enqueue(int... statuses) {
    for (int status : statuses) {
      enqueue(Response.status(status));
    }
    return this;
  }

  /** The answer once the script is empty (200 unless set): e.g. an outage, then a recovery. */
  public synchronized TestReceiver answerByDefault(Response response) {
    byDefault = response;
    return this;
  }

  public int port() {
    return server.actualPort();
  }

  /** {@code https://localhost:<port>} + {@code pathAndQuery} (which starts with {@code /}). */
  public String url(String pathAndQuery) {
    return "https://localhost:" + port() + pathAndQuery;
  }

  /** Every request received so far, in order of arrival. */
  public synchronized List<ReceivedRequest> requests() {
    return List.copyOf(requests);
  }

  @Override
  public void close() {
    try {
      server.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the test receiver did not stop", e);
    }
  }

  private void handle(HttpServerRequest request) {
    Instant arrivedAt = Instant.now();
    Response response = next();
    request.body().onSuccess(body -> {
      record(
          new ReceivedRequest(
              request.method().name(), request.uri(), copy(request.headers()), body, arrivedAt,
              request.remoteAddress().toString(), response));
      if (response.delay().isZero()) {
        answer(request, response);
      } else {
        vertx.setTimer(response.delay().toMillis(), id -> answer(request, response));
      }
    });
  }

  private void answer(HttpServerRequest request, Response scripted) {
    if (scripted.closeConnection()) {
      request.connection().close();
      return;
    }
    HttpServerResponse response = request.response();
    if (response.closed()) {
      return; // the client gave up first
    }
    response.setStatusCode(scripted.status());
    scripted.headers().forEach(response::putHeader);
    if (scripted.dribble() != null) {
      response.setChunked(true);
      response.writeHead();
      long timer = vertx.setPeriodic(scripted.dribble().toMillis(), id -> response.write("."));
      response.closeHandler(closed -> vertx.cancelTimer(timer));
      return;
    }
    response.putHeader(HttpHeaders.CONTENT_TYPE, "text/plain").end(scripted.body());
  }

  private synchronized Response next() {
    return script.isEmpty() ? byDefault : script.poll();
  }

  private synchronized void record(ReceivedRequest request) {
    requests.add(request);
  }

  private static MultiMap copy(MultiMap headers) {
    return MultiMap.caseInsensitiveMultiMap().addAll(headers);
  }
}
