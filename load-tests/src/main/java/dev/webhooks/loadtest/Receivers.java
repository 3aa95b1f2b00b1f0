package dev.webhooks.loadtest;

import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.net.SelfSignedCertificate;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Twenty HTTPS receivers (one origin each, on free ports of 127.0.0.1, certificate for {@code localhost}): healthy
 * ones answer after the scenario's delay with 200 (or 500 at its error rate), broken ones never answer or answer too
 * late. Every 100th event's two signatures are checked against the app's secret, so both systems must sign exactly.
 */
final class Receivers implements AutoCloseable {
  private static final int SIGNATURE_SAMPLE = 100;
  /** Requests in flight while warming up: enough to open several connections to every receiver. */
  private static final int WARM_UP_CONCURRENCY = 80;
  /** Sequence numbers the warm-up cycles through, so nearly every one of its requests is a first delivery. */
  private static final int WARM_UP_EVENTS = 1 << 20;
  private final Vertx vertx;
  private final SelfSignedCertificate certificate;
  private final List<HttpServer> servers = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();
  private final Scenario scenario;
  private final List<Workload.App> apps;
  private volatile Tally tally;

  Receivers(Vertx vertx, Scenario scenario, List<Workload.App> apps) {
    this.vertx = vertx;
    this.scenario = scenario;
    this.apps = apps;
    this.certificate = SelfSignedCertificate.create("localhost");
  }

  /** The PEM file both systems trust (DELIVERY_TRUSTED_CA_PEM). */
  String certificatePem() {
    return certificate.certificatePath();
  }

  void start() throws Exception {
    for (int e = 0; e < Workload.ENDPOINTS; e++) {
      int endpoint = e;
      HttpServerOptions options = new HttpServerOptions().setSsl(true).setKeyCertOptions(certificate.keyCertOptions())
          .setTcpNoDelay(true).setIdleTimeout(0).setSslEngineOptions(tlsEngine());
      HttpServer server = vertx.createHttpServer(options).requestHandler(request -> handle(endpoint, request))
          .connectionHandler(connection -> {
            Tally t = tally;
            if (t != null) {
              t.connected();
            }
          });
      server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      servers.add(server);
      ports.add(server.actualPort());
    }
  }

  /** BoringSSL where it loads (as most web servers' TLS is OpenSSL), else the JDK's engine; said in the run's log. */
  private static SSLEngineOptions tlsEngine() {
    if (OpenSsl.isAvailable()) {
      return new OpenSSLEngineOptions();
    }
    System.err.println("receivers: BoringSSL does not load here (" + OpenSsl.unavailabilityCause() + "); using JDK TLS");
    return new JdkSSLEngineOptions();
  }

  /**
   * Sends the receivers requests of their own for {@code seconds}, shaped like a system's (an app's path, an event
   * body with its sequence number, the headers the signature check reads, valid signatures where it checks them) and
   * counted into a tally of their own that is then dropped. So the harness JVM has compiled the very path the
   * systems' requests take (answer 200, count, record the latency) before the first system runs, as it has for the
   * second, and does not compile it while a system starts. Only healthy endpoints: a broken one would hold the loop.
   * Returns what the receivers counted.
   */
  Tally warmUp(int seconds) throws Exception {
    Tally warm = new Tally(WARM_UP_EVENTS);
    countInto(warm);
    HttpClient client = vertx.createHttpClient(
        new HttpClientOptions().setSsl(true).setTrustOptions(certificate.trustOptions()).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(8).setMaxLifetime(2).setMaxLifetimeUnit(TimeUnit.SECONDS));
    List<Workload.App> targets = apps.stream().filter(app -> scenario.healthy(app.endpoint()))
        .limit(WARM_UP_CONCURRENCY).toList();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    AtomicInteger sequence = new AtomicInteger();
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicInteger running = new AtomicInteger(targets.size());
    for (Workload.App app : targets) {
      warmUpLoop(client, app, sequence, deadline, running, done);
    }
    done.get(seconds + 30L, TimeUnit.SECONDS);
    client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    countInto(null);
    return warm;
  }

  private void warmUpLoop(HttpClient client, Workload.App app, AtomicInteger sequence, long deadline,
      AtomicInteger running, CompletableFuture<Void> done) {
    if (System.nanoTime() >= deadline) {
      if (running.decrementAndGet() == 0) {
        done.complete(null);
      }
      return;
    }
    int seq = sequence.getAndIncrement() % WARM_UP_EVENTS;
    byte[] body = Workload.event(new SplittableRandom(seq), seq, System.nanoTime(), System.currentTimeMillis())
        .json().getBytes(StandardCharsets.UTF_8);
    String id = "warm-up-" + seq;
    String timestamp = String.valueOf(System.currentTimeMillis() / 1000);
    boolean checked = seq % SIGNATURE_SAMPLE == 0;
    client.request(HttpMethod.POST, ports.get(app.endpoint()), "localhost", "/app-" + app.index())
        .compose(request -> request
            .putHeader("content-type", "application/json")
            .putHeader("x-liveperson-account-id", app.account())
            .putHeader("x-liveperson-client-id", app.clientId())
            .putHeader("webhook-id", id)
            .putHeader("webhook-timestamp", timestamp)
            .putHeader("x-liveperson-signature", checked ? livepersonSignature(app, body) : "-")
            .putHeader("webhook-signature", checked ? standardSignature(app, id, timestamp, body) : "-")
            .send(Buffer.buffer(body)))
        .compose(HttpClientResponse::body)
        .onComplete(result -> warmUpLoop(client, app, sequence, deadline, running, done));
  }

  /** Starts counting into a fresh tally (one per system run). */
  void countInto(Tally tally) {
    this.tally = tally;
  }

  String url(Workload.App app) {
    return "https://localhost:" + ports.get(app.endpoint()) + "/app-" + app.index();
  }

  private void handle(int endpoint, HttpServerRequest request) {
    request.body().onSuccess(body -> {
      Tally t = tally;
      int seq = (int) number(body, "\"loadSeq\":");
      long intended = number(body, "\"loadNs\":");
      if (seq < 0 || t == null) {
        request.response().setStatusCode(400).end();
        return;
      }
      t.attempt(seq);
      if (seq % SIGNATURE_SAMPLE == 0) {
        check(t, request, body);
      }
      if (scenario.blackholed().contains(endpoint)) {
        return; // never answered: the sender's response timeout must cut it off
      }
      long delay = scenario.answerAfter6s().contains(endpoint) ? 6_000 : scenario.receiverDelayMs();
      int status = scenario.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < scenario.errorRate() ? 500 : 200;
      boolean healthy = scenario.healthy(endpoint);
      if (delay == 0) {
        answer(t, request, status, seq, endpoint, intended, healthy);
      } else {
        vertx.setTimer(delay, id -> answer(t, request, status, seq, endpoint, intended, healthy));
      }
    });
  }

  private static void answer(
      Tally t, HttpServerRequest request, int status, int seq, int endpoint, long intended, boolean healthy) {
    if (request.response().closed()) {
      return; // the sender gave up (timeout) before the answer: not delivered
    }
    request.response().setStatusCode(status).end();
    if (status == 200) {
      t.success(seq, endpoint, intended, healthy);
    }
  }

  private void check(Tally t, HttpServerRequest request, Buffer body) {
    t.signaturesChecked.increment();
    String path = request.path();
    Workload.App app = apps.get(Integer.parseInt(path.substring(path.lastIndexOf('-') + 1)));
    byte[] bytes = body.getBytes();
    String id = request.getHeader("webhook-id");
    String ts = request.getHeader("webhook-timestamp");
    String expectedSha1 = livepersonSignature(app, bytes);
    String expectedV1 = standardSignature(app, id, ts, bytes);
    String v1 = request.getHeader("webhook-signature");
    boolean ok = expectedSha1.equals(request.getHeader("x-liveperson-signature"))
        && v1 != null && List.of(v1.split(" ")).contains(expectedV1)
        && app.account().equals(request.getHeader("x-liveperson-account-id"))
        && app.clientId().equals(request.getHeader("x-liveperson-client-id"))
        && id != null && !id.contains(".")
        && "application/json".equals(request.getHeader("content-type"));
    if (!ok) {
      t.badSignatures.increment();
    }
  }

  /** The {@code x-liveperson-signature} an app's body must carry; the warm-up sends what the check expects. */
  private static String livepersonSignature(Workload.App app, byte[] body) {
    return "sha1=" + hmac("HmacSHA1", app.secret(), body);
  }

  /** The {@code webhook-signature} entry for the app's one secret: HMAC-SHA256 of {@code id.timestamp.body}. */
  private static String standardSignature(Workload.App app, String id, String timestamp, byte[] body) {
    byte[] prefix = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
    byte[] signed = Arrays.copyOf(prefix, prefix.length + body.length);
    System.arraycopy(body, 0, signed, prefix.length, body.length);
    return "v1," + hmac("HmacSHA256", app.secret(), signed);
  }

  private static String hmac(String algorithm, String secret, byte[] message) {
    try {
      Mac mac = Mac.getInstance(algorithm);
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), algorithm));
      return Base64.getEncoder().encodeToString(mac.doFinal(message));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The non-negative number after {@code field} near the start of the body, or -1. */
  static long number(Buffer body, String field) {
    byte[] f = field.getBytes(StandardCharsets.US_ASCII);
    int limit = Math.min(body.length(), 200) - f.length;
    outer:
    for (int i = 0; i < limit; i++) {
      for (int j = 0; j < f.length; j++) {
        if (body.getByte(i + j) != f[j]) {
          continue outer;
        }
      }
      long value = 0;
      int k = i + f.length;
      while (k < body.length() && body.getByte(k) >= '0' && body.getByte(k) <= '9') {
        value = value * 10 + (body.getByte(k++) - '0');
      }
      return value;
    }
    return -1;
  }

  @Override
  public void close() {
    for (HttpServer server : servers) {
      server.close();
    }
  }
}
