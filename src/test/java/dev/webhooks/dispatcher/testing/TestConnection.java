package dev.webhooks.dispatcher.testing;

import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A raw TCP connection to an HTTP server, for clients no HTTP library would be: one that says nothing, or dribbles a
 * request a byte at a time. Records what it received and when the server closed it.
 */
public final class TestConnection implements AutoCloseable {
  private final Vertx vertx;
  private final NetClient client;
  private final NetSocket socket;
  private final long openedAt = System.nanoTime();
  private final StringBuffer received = new StringBuffer();
  private volatile long closedAt = -1;
  private volatile int dribbled;

  private TestConnection(Vertx vertx, NetClient client, NetSocket socket) {
    this.vertx = vertx;
    this.client = client;
    this.socket = socket;
    socket.handler(bytes -> received.append(bytes.toString(StandardCharsets.ISO_8859_1)));
    socket.closeHandler(closed -> closedAt = System.nanoTime());
  }

  public static TestConnection open(Vertx vertx, int port) throws Exception {
    NetClient client = vertx.createNetClient();
    NetSocket socket = client.connect(port, "localhost").await(5, TimeUnit.SECONDS);
    return new TestConnection(vertx, client, socket);
  }

  public void send(String text) {
    socket.write(Buffer.buffer(text.getBytes(StandardCharsets.ISO_8859_1)));
  }

  /** Sends {@code text} one byte every {@code every}, on a timer, until it is all sent or the connection is closed. */
  public void dribble(String text, Duration every) {
    byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    vertx.setPeriodic(every.toMillis(), id -> {
      if (closedAt != -1 || dribbled == bytes.length) {
        vertx.cancelTimer(id);
        return;
      }
      socket.write(Buffer.buffer(new byte[] {bytes[dribbled++]}));
    });
  }

  /** Sends {@code text} after {@code delay}, on a timer. */
  public void sendAfter(Duration delay, String text) {
    vertx.setTimer(delay.toMillis(), id -> send(text));
  }

  /** How many bytes {@link #dribble} has sent so far. */
  public int dribbled() {
    return dribbled;
  }

  public String received() {
    return received.toString();
  }

  public boolean isClosed() {
    return closedAt != -1;
  }

  /** Waits until the server closes the connection; how long it was open. */
  public Duration awaitClosed(Duration atMost) {
    await().atMost(atMost).until(this::isClosed);
    return Duration.ofNanos(closedAt - openedAt);
  }

  /** Waits until {@code count} responses have arrived (counted by their status lines). */
  public String awaitResponses(int count, Duration atMost) {
    await().atMost(atMost).until(() -> received().split("HTTP/1.1 ", -1).length - 1 >= count);
    return received();
  }

  @Override
  public void close() throws Exception {
    client.close().await(5, TimeUnit.SECONDS);
  }
}
