package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.webhooks.dispatcher.testing.TestKafka;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAPI document describes exactly the routes the API serves, and is served itself. */
class OpenApiIT {
  private static final Set<String> OPERATIONS = Set.of("get", "put", "post", "delete", "patch", "head", "options");
  private static final SecretCipher CIPHER = SecretCipher.fromBase64(SecretCipher.generateKey());
  private static Vertx vertx;
  private static InstallationStore store;
  private static Router router;
  private static HttpServer server;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    store = new InstallationStore(vertx, TestKafka.connection(), InstallationTopics.create(), CIPHER);
    store.start().await(30, TimeUnit.SECONDS);
    router = new InstallApi(vertx, store, new FakeEndpointCheck(), LogoCheck.NONE, CIPHER, "token", Clock.systemUTC(),
        Duration.ZERO, AccessTokens.fromSecretsKey(SecretCipher.generateKey(), Clock.systemUTC())).router();
    server = vertx.createHttpServer().requestHandler(router).listen(0).await();
  }

  @AfterAll
  static void stop() {
    server.close().await();
    store.close().await();
    vertx.close().await();
  }

  @Test
  void everyRouteIsDocumentedAndEveryDocumentedOperationIsARoute() throws Exception {
    Set<String> routes = new TreeSet<>();
    for (Route route : router.getRoutes()) {
      if (route.getPath() != null && route.methods() != null) {
        route.methods().forEach(m -> routes.add(m.name() + " " + route.getPath().replaceAll(":(\\w+)", "{$1}")));
      }
    }
    Set<String> documented = new TreeSet<>();
    for (Iterator<java.util.Map.Entry<String, JsonNode>> paths = document().get("paths").fields(); paths.hasNext(); ) {
      var path = paths.next();
      path.getValue().fieldNames().forEachRemaining(field -> {
        if (OPERATIONS.contains(field)) {
          documented.add(field.toUpperCase(Locale.ROOT) + " " + path.getKey());
        }
      });
    }
    assertThat(routes).isNotEmpty().isEqualTo(documented);
  }

  @Test
  void servesTheDocumentWithoutAToken() throws Exception {
    WebClient client = WebClient.create(vertx);
    HttpResponse<Buffer> response = client.request(HttpMethod.GET, server.actualPort(), "localhost",
        InstallApi.OPENAPI_PATH).send().await();
    client.close();
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("content-type")).startsWith("application/yaml");
    assertThat(new ObjectMapper(new YAMLFactory()).readTree(response.bodyAsString())).isEqualTo(document());
    assertThat(document().get("openapi").asText()).startsWith("3.");
  }

  private static JsonNode document() throws Exception {
    try (InputStream in = OpenApiIT.class.getResourceAsStream(OpenApiDocument.RESOURCE)) {
      return new ObjectMapper(new YAMLFactory()).readTree(in);
    }
  }
}
