package dev.webhooks.loadtest;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a burst of POSTs costs when the pool must open a TLS connection for each, against the same burst on connections
 * already open: 20 HTTPS servers and one client, each on a Vert.x of its own with two event loops, BoringSSL on both
 * sides, the receivers' RSA certificate, in one JVM. Usage: {@code ConnectionBurst N [P]}: N requests per endpoint
 * at once, first into an empty pool of P connections per endpoint (N by default), then into the full one, with cold
 * code and again with warm; prints one line per burst.
 */
public final class ConnectionBurst {
  private static final int ENDPOINTS = 20;

  private ConnectionBurst() {}

  public static void main(String[] args) throws Exception {
    int perEndpoint = Integer.parseInt(args[0]);
    int poolSize = args.length > 1 ? Integer.parseInt(args[1]) : perEndpoint;
    Vertx servers = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    Vertx clients = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    SelfSignedCertificate certificate = SelfSignedCertificate.create("localhost");
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < ENDPOINTS; i++) {
      HttpServer server = servers.createHttpServer(new HttpServerOptions().setSsl(true)
              .setKeyCertOptions(certificate.keyCertOptions()).setSslEngineOptions(new OpenSSLEngineOptions()))
          .requestHandler(request -> request.body().onSuccess(body -> request.response().end("ok")));
      server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
      ports.add(server.actualPort());
    }
    AtomicLong opened = new AtomicLong();
    Context context = clients.getOrCreateContext();
    InetAddress localhost = InetAddress.getAllByName("localhost")[0];
    for (String code : List.of("cold", "warm")) {
      HttpClient client = clients.httpClientBuilder()
          .with(new HttpClientOptions().setSsl(true).setVerifyHost(true).setTrustOptions(certificate.trustOptions())
              .setSslEngineOptions(new OpenSSLEngineOptions()))
          .with(new PoolOptions().setHttp1MaxSize(poolSize))
          .withConnectHandler(connection -> opened.incrementAndGet())
          .build();
      run(code + " code, empty pool:", client, context, localhost, ports, perEndpoint, opened);
      run(code + " code, full pool: ", client, context, localhost, ports, perEndpoint, opened);
      client.close().await(10, TimeUnit.SECONDS);
    }
    System.exit(0);
  }

  private static void run(String label, HttpClient client, Context context, InetAddress localhost,
      List<Integer> ports, int perEndpoint, AtomicLong opened) throws InterruptedException {
    int n = perEndpoint * ENDPOINTS;
    long[] waited = new long[n];
    long[] took = new long[n];
    CountDownLatch done = new CountDownLatch(n);
    Buffer body = Buffer.buffer("x".repeat(1000));
    long openedBefore = opened.get();
    long start = System.nanoTime();
    context.runOnContext(v -> {
      for (int i = 0; i < n; i++) {
        int index = i;
        int port = ports.get(i % ENDPOINTS);
        RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST)
            .setServer(SocketAddress.inetSocketAddress(new InetSocketAddress(localhost, port)))
            .setHost("localhost").setPort(port).setURI("/").setSsl(true);
        client.request(request)
            .onSuccess(sending -> {
              waited[index] = (System.nanoTime() - start) / 1_000_000;
              sending.send(body).compose(HttpClientResponse::body).onComplete(answer -> {
                took[index] = (System.nanoTime() - start) / 1_000_000;
                done.countDown();
              });
            })
            .onFailure(failure -> {
              waited[index] = took[index] = -1;
              done.countDown();
            });
      }
    });
    if (!done.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the burst did not finish in 60 s");
    }
    Arrays.sort(waited);
    Arrays.sort(took);
    System.out.printf("%s %,d POSTs at once, %,d new connections: waited for a connection p50 %d ms, max %d ms;"
        + " answered p50 %d ms, max %d ms%n", label, n, opened.get() - openedBefore, waited[n / 2], waited[n - 1],
        took[n / 2], took[n - 1]);
  }
}
