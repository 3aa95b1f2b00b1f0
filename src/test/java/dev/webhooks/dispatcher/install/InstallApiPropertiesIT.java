package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.testing.TestKafka;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Random JSON sent to the real API over HTTP, stored on the real broker: the answer is always 201 or 400. */
class InstallApiPropertiesIT {
  private static final SecretCipher CIPHER = SecretCipher.fromBase64(SecretCipher.generateKey());
  private static Vertx vertx;
  private static InstallationStore store;
  private static HttpServer server;
  private static WebClient client;

  @BeforeContainer
  static void start() throws Exception {
    vertx = Vertx.vertx();
    store = new InstallationStore(vertx, TestKafka.connection(), InstallationTopics.create(), CIPHER);
    store.start().await(30, TimeUnit.SECONDS);
    server = vertx.createHttpServer().requestHandler(new InstallApi(vertx, store, new FakeEndpointCheck(),
        LogoCheck.NONE, CIPHER, "token", Clock.systemUTC(), Duration.ZERO,
        AccessTokens.fromSecretsKey(SecretCipher.generateKey(), Clock.systemUTC())).router()).listen(0).await();
    client = WebClient.create(vertx);
  }

  @AfterContainer
  static void stop() {
    client.close();
    server.close().await();
    store.close().await();
    vertx.close().await();
  }

  @Property(tries = 150)
  void randomDocumentsGet201Or400(@ForAll("documents") JsonNode document) {
    assertAnswered(document);
  }

  @Property(tries = 150)
  void mutatedSpecExamplesGet201Or400(@ForAll("mutatedExamples") JsonNode document) {
    assertAnswered(document);
  }

  /** 201 or 400; a 409 only for a document that imports a client id installed by an earlier try. */
  private static void assertAnswered(JsonNode document) {
    boolean taken = document.path("client_id").isTextual()
        && store.find(document.get("client_id").textValue()).isPresent();
    HttpResponse<Buffer> response = client.request(HttpMethod.POST, server.actualPort(), "localhost",
            "/api/account/property/configuration/app-install/installations")
        .putHeader("Authorization", "Bearer token").putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(document.toString())).await();
    if (taken && response.statusCode() == 409) {
      return;
    }
    assertThat(response.statusCode()).as(response.bodyAsString()).isIn(201, 400);
    if (response.statusCode() == 400) {
      assertThat(response.bodyAsString()).contains("\"path\"");
    }
  }

  @Provide
  Arbitrary<JsonNode> documents() {
    return ManifestPropertiesTest.json(4);
  }

  @Provide
  Arbitrary<JsonNode> mutatedExamples() {
    return ManifestPropertiesTest.mutated();
  }
}
