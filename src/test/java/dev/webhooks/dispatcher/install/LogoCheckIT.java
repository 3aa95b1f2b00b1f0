package dev.webhooks.dispatcher.install;

import static dev.webhooks.dispatcher.install.Manifests.MAPPER;
import static dev.webhooks.dispatcher.install.Manifests.specExample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.delivery.AddressGuard;
import dev.webhooks.dispatcher.delivery.HostResolver;
import dev.webhooks.dispatcher.delivery.Trust;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DESIGN 1.5's logo rule against a real HTTPS server: 70x70 passes, another size is 400, unreachable warns. */
class LogoCheckIT {
  private static final SecretCipher CIPHER = SecretCipher.fromBase64(SecretCipher.generateKey());
  private static Vertx vertx;
  private static HttpServer images;
  private static LogoFetcher fetcher;
  private static InstallationStore store;
  private static HttpServer api;
  private static WebClient client;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    Buffer square = png(70, 70);
    Buffer wide = png(71, 70);
    Buffer huge = Buffer.buffer(new byte[LogoFetcher.MAX_BYTES + 1]);
    images = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setHost("127.0.0.1").setPort(0)
            .setKeyCertOptions(TestCertificates.shared().localhost().keyCertOptions()))
        .requestHandler(request -> {
          switch (request.path()) {
            case "/square.png" -> request.response().putHeader("content-type", "image/png").end(square);
            case "/wide.png" -> request.response().end(wide);
            case "/huge.png" -> request.response().end(huge);
            case "/text" -> request.response().end("not an image");
            case "/moved" -> request.response().setStatusCode(302).putHeader("location", "/square.png").end();
            case "/silent" -> { } // never answers: the 3 s limit applies
            default -> request.response().setStatusCode(404).end();
          }
        })
        .listen().await(10, TimeUnit.SECONDS);
    HostResolver resolver = HostResolver.system(vertx);
    fetcher = new LogoFetcher(vertx, resolver, new AddressGuard(true, resolver),
        Trust.withExtraCas(Optional.of(TestCertificates.shared().caPem())));
    store = new InstallationStore(vertx, TestKafka.connection(), InstallationTopics.create(), CIPHER);
    store.start().await(30, TimeUnit.SECONDS);
    api = vertx.createHttpServer().requestHandler(new InstallApi(vertx, store, new FakeEndpointCheck(), fetcher,
        CIPHER, "token", Clock.systemUTC(), Duration.ZERO,
        AccessTokens.fromSecretsKey(SecretCipher.generateKey(), Clock.systemUTC())).router()).listen(0).await();
    client = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() {
    client.close();
    api.close().await();
    images.close().await();
    store.close().await();
    vertx.close().await();
  }

  @Test
  void aSeventyPixelSquareFitsAndAPathIsNotFetched() {
    assertThat(check(url("/square.png"))).isInstanceOf(LogoCheck.Fits.class);
    assertThat(check("/src/modules/campaigns/assets/img/software/Mobile-App.png")).isInstanceOf(LogoCheck.Fits.class);
  }

  @Test
  void anotherSizeIsRefused() {
    assertThat(check(url("/wide.png"))).isEqualTo(new LogoCheck.WrongSize("must be a 70x70 image; it is 71x70"));
  }

  @Test
  void whatCannotBeFetchedOrReadIsOnlyAWarning() {
    assertThat(message(check(url("/missing.png")))).contains("HTTP 404");
    assertThat(message(check(url("/moved")))).contains("HTTP 302");
    assertThat(message(check(url("/huge.png")))).contains("larger than 1024 KiB");
    assertThat(message(check(url("/text")))).contains("not a PNG, JPEG, GIF or BMP image");
    assertThat(message(check("https://unreachable.invalid/logo.png"))).contains("could not be fetched");
    assertThat(message(check(url("/silent")))).contains("could not be fetched");
  }

  @Test
  void refusesABlockedAddressWithoutFetchingIt() {
    HostResolver resolver = HostResolver.system(vertx);
    LogoFetcher guarded = new LogoFetcher(vertx, resolver, new AddressGuard(false, resolver),
        Trust.withExtraCas(Optional.of(TestCertificates.shared().caPem())));
    LogoCheck.Finding finding = guarded.check(url("/square.png")).await();
    assertThat(message(finding)).contains("loopback");
  }

  @Test
  void anIpv6LiteralLogoIsFetchedWithItsHostHeaderInBrackets() throws Exception {
    Assumptions.assumeTrue(TestReceiver.canListenOn("::1"), "no IPv6 loopback address (::1) to bind on this machine");
    List<String> hosts = new CopyOnWriteArrayList<>();
    Buffer square = png(70, 70);
    HttpServer v6 = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setHost("::1").setPort(0)
            .setKeyCertOptions(TestCertificates.shared().localhost().keyCertOptions()))
        .requestHandler(request -> {
          hosts.add(request.getHeader("Host"));
          request.response().end(square);
        })
        .listen().await(10, TimeUnit.SECONDS);
    try {
      assertThat(check("https://[::1]:" + v6.actualPort() + "/square.png")).isInstanceOf(LogoCheck.Fits.class);
      assertThat(hosts).containsExactly("[::1]:" + v6.actualPort());
    } finally {
      v6.close().await();
    }
  }

  /**
   * A server that sends its head and then one byte every 100 ms never trips an idle timeout; the whole fetch still ends
   * at the budget, and the connection is closed rather than left to dribble.
   */
  @Test
  void aLogoDribbledByteByByteEndsAtTheBudgetAndItsConnectionIsClosed() throws Exception {
    AtomicBoolean closed = new AtomicBoolean();
    HttpServer dribbler = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setHost("127.0.0.1").setPort(0)
            .setKeyCertOptions(TestCertificates.shared().localhost().keyCertOptions()))
        .requestHandler(request -> {
          HttpServerResponse response = request.response().setChunked(true).putHeader("content-type", "image/png");
          response.write(Buffer.buffer(new byte[] {(byte) 0x89}));
          long dribble = vertx.setPeriodic(100, id -> response.write(Buffer.buffer("P")));
          request.connection().closeHandler(v -> {
            vertx.cancelTimer(dribble);
            closed.set(true);
          });
        })
        .listen().await(10, TimeUnit.SECONDS);
    HostResolver resolver = HostResolver.system(vertx);
    LogoFetcher budgeted = new LogoFetcher(vertx, resolver, new AddressGuard(true, resolver),
        Trust.withExtraCas(Optional.of(TestCertificates.shared().caPem())), Duration.ofSeconds(1));
    try {
      long started = System.nanoTime();
      LogoCheck.Finding finding =
          budgeted.check("https://localhost:" + dribbler.actualPort() + "/logo.png").await(10, TimeUnit.SECONDS);
      Duration took = Duration.ofNanos(System.nanoTime() - started);

      assertThat(message(finding)).isEqualTo("could not be fetched to check its 70x70 size: it did not finish within 1000 ms");
      assertThat(took).isLessThan(Duration.ofSeconds(3));
      await().atMost(Duration.ofSeconds(2)).untilTrue(closed);
    } finally {
      dribbler.close().await();
    }
  }

  @Test
  void theApiRefusesAWrongSizeAtItsPathAndWarnsWhenItCannotCheck() throws Exception {
    HttpResponse<Buffer> wrong = install(specExample().put("logo_uri", url("/wide.png")));
    HttpResponse<Buffer> unreachable = install(specExample().put("logo_uri", url("/missing.png")));
    HttpResponse<Buffer> fits = install(specExample().put("logo_uri", url("/square.png")));

    assertThat(wrong.statusCode()).isEqualTo(400);
    assertThat(MAPPER.readTree(wrong.bodyAsString()).at("/errors/0/path").asText()).isEqualTo("logo_uri");
    assertThat(unreachable.statusCode()).isEqualTo(201);
    JsonNode warned = MAPPER.readTree(unreachable.bodyAsString());
    assertThat(warned.at("/warnings/0/path").asText()).isEqualTo("logo_uri");
    assertThat(warned.at("/warnings/0/message").asText()).contains("HTTP 404");
    assertThat(store.find(warned.get("id").asText()).orElseThrow().manifest().has("warnings")).isFalse();
    assertThat(fits.statusCode()).isEqualTo(201);
    assertThat(MAPPER.readTree(fits.bodyAsString()).has("warnings")).isFalse();
  }

  private static HttpResponse<Buffer> install(JsonNode manifest) {
    return client.request(HttpMethod.POST, api.actualPort(), "localhost",
            "/api/account/" + UUID.randomUUID() + "/configuration/app-install/installations")
        .putHeader("Authorization", "Bearer token").putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(manifest.toString())).await();
  }

  private static LogoCheck.Finding check(String uri) {
    return fetcher.check(uri).await();
  }

  private static String message(LogoCheck.Finding finding) {
    assertThat(finding).isInstanceOf(LogoCheck.NotChecked.class);
    return ((LogoCheck.NotChecked) finding).message();
  }

  private static String url(String path) {
    return "https://localhost:" + images.actualPort() + path;
  }

  private static Buffer png(int width, int height) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB), "png", out);
    return Buffer.buffer(out.toByteArray());
  }
}
