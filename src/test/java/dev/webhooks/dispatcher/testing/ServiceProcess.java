package dev.webhooks.dispatcher.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The built jar ({@code target/webhook-dispatcher.jar}, made by the package phase before the integration tests) running
 * as its own JVM, as it runs in production: for tests that kill it, signal it, or need its default embedded broker.
 * Its environment is exactly what the test gives; its output goes to a log file under {@code target/}.
 */
public final class ServiceProcess implements AutoCloseable {
  private static final Path JAR = Path.of("target", "webhook-dispatcher.jar");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final Process process;
  private final Path log;
  private final int managementPort;

  private ServiceProcess(Process process, Path log, int managementPort) {
    this.process = process;
    this.log = log;
    this.managementPort = managementPort;
  }

  /** Starts the jar with {@code env} (which must set MANAGEMENT_PORT) and waits until it reports ready. */
  public static ServiceProcess start(String name, Map<String, String> env) {
    ServiceProcess service = launch(name, env);
    service.awaitReady();
    return service;
  }

  /** Starts the jar without waiting for it to be ready: for tests of a start that cannot finish yet. */
  public static ServiceProcess launch(String name, Map<String, String> env) {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR.toAbsolutePath() + " is missing: run the tests with ./mvnw verify");
    }
    Path log = Path.of("target", name + "-" + System.nanoTime() + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder = new ProcessBuilder(java, "-Xmx512m", "-jar", JAR.toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    builder.environment().clear();
    builder.environment().putAll(env);
    try {
      return new ServiceProcess(builder.start(), log, Integer.parseInt(env.get("MANAGEMENT_PORT")));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + JAR, e);
    }
  }

  /** A port that was free a moment ago, for a service whose ports must stay the same across restarts. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * As many ports as asked, all different: two ports asked for one after the other can be the same one (the load-test
   * harness once gave a service the same API and management port).
   */
  public static int[] freePorts(int count) {
    Set<Integer> ports = new LinkedHashSet<>();
    while (ports.size() < count) {
      ports.add(freePort());
    }
    return ports.stream().mapToInt(Integer::intValue).toArray();
  }

  /** SIGKILL: no drain, no final commit, nothing flushed. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM, then the exit code once the process has drained and exited. */
  public int terminate(Duration within) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the service did not exit within " + within + " of SIGTERM; see " + log);
    }
    return process.exitValue();
  }

  /** The exit code once the process has exited by itself, failing if it still runs after {@code within}. */
  public int awaitExit(Duration within) throws InterruptedException {
    if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("the service still runs after " + within + "; see " + log);
    }
    return process.exitValue();
  }

  public List<String> output() {
    try {
      return Files.readAllLines(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }

  /** Waits until the service reports ready; fails at once if it exits. */
  public void awaitReady() {
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .failFast("the service exited; see " + log, () -> !process.isAlive())
        .until(this::ready);
  }

  private boolean ready() {
    return status("/health/ready") == 200;
  }

  /**
   * The HTTP status of a GET on the management port, or -1 when nothing answers within 5 s. (Vert.x's Micrometer
   * metrics once threw on a request that came as the server started, and the request never got an answer.)
   */
  public int status(String path) {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + managementPort + path))
        .timeout(Duration.ofSeconds(5))
        .build();
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }
}
