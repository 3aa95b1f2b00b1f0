package dev.webhooks.dispatcher.ops;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every client of the service's HTTP servers must keep to, or lose its connection (slow-loris protection):
 *
 * <ul>
 *   <li>a new connection's first request head (request line and headers) is complete within {@code request};
 *   <li>a request's body is complete within {@code request} of its head;
 *   <li>no connection goes {@code idle} without a write or a whole HTTP message (head or body chunk) read: Vert.x's
 *       idle timeout, which sees what the HTTP decoder makes of the bytes, not the bytes, so a head dribbled a byte at
 *       a time counts as silence. A kept-alive connection so has {@code idle} from its last response to send its
 *       next head whole.
 * </ul>
 *
 * <p>Heads are bounded by Vert.x's defaults: a request line over 4096 bytes is answered 414 and headers over 8192
 * bytes 431, and the connection is closed. The servers speak HTTP/1.1 only, one request at a time per connection.
 */
public final class ClientDeadlines {
  private static final Logger LOG = LoggerFactory.getLogger(ClientDeadlines.class);

  private final Duration idle;
  private final Duration request;

  /**
   * @param idle the longest silence on a connection ({@code HTTP_IDLE_TIMEOUT_MS})
   * @param request the time a client has for a request's head, and again for its body ({@code HTTP_REQUEST_TIMEOUT_MS})
   */
  public ClientDeadlines(Duration idle, Duration request) {
    if (idle.isNegative() || idle.isZero() || request.isNegative() || request.isZero()) {
      throw new IllegalArgumentException("deadlines must be positive, were " + idle + " and " + request);
    }
    this.idle = idle;
    this.request = request;
  }

  /**
   * A server, HTTP/1.1 only (no h2c upgrade, which Java's HttpClient asks for by default on plain http), that holds
   * every connection to these deadlines and hands each request to {@code handler}.
   */
  public HttpServer server(Vertx vertx, Handler<HttpServerRequest> handler) {
    HttpServerOptions options = new HttpServerOptions()
        .setHttp2ClearTextEnabled(false)
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        .setIdleTimeout(Math.toIntExact(idle.toMillis()));
    Map<HttpConnection, Clock> clocks = new ConcurrentHashMap<>();
    return vertx.createHttpServer(options)
        .connectionHandler(connection -> {
          Clock clock = new Clock(vertx, connection);
          clocks.put(connection, clock);
          connection.closeHandler(closed -> {
            clock.stop();
            clocks.remove(connection);
          });
          clock.expect(request, "request head");
        })
        .requestHandler(incoming -> {
          Clock clock = clocks.get(incoming.connection());
          if (clock != null) {
            clock.track(incoming);
          }
          handler.handle(incoming);
        });
  }

  /** One connection's deadline, for a request's head or body: at most one at a time, on the connection's event loop. */
  private final class Clock {
    private final Vertx vertx;
    private final HttpConnection connection;
    private long timer = -1;
    private boolean stopped;

    Clock(Vertx vertx, HttpConnection connection) {
      this.vertx = vertx;
      this.connection = connection;
    }

    /** The head is in: the body is due, if there is one; after it the idle timeout takes over. */
    void track(HttpServerRequest incoming) {
      cancel();
      if (!incoming.isEnded()) {
        expect(request, "request body");
        incoming.end().onComplete(ended -> cancel());
      }
    }

    void expect(Duration within, String what) {
      cancel();
      if (stopped) {
        return;
      }
      timer = vertx.setTimer(within.toMillis(), id -> {
        timer = -1;
        // debug, not info: a flood of slow clients must not become a flood of log lines
        LOG.debug("Closing a connection from {}: no complete {} within {} ms", connection.remoteAddress(), what,
            within.toMillis());
        connection.close();
      });
    }

    void stop() {
      stopped = true;
      cancel();
    }

    private void cancel() {
      if (timer != -1) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }
  }
}
