package dev.webhooks.dispatcher.install;

import static dev.webhooks.dispatcher.install.Manifests.MAPPER;
import static dev.webhooks.dispatcher.install.Manifests.specExample;
import static dev.webhooks.dispatcher.install.Manifests.webhook;
import static dev.webhooks.dispatcher.install.Manifests.withWebhook;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.webhooks.dispatcher.signing.Signer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class InstallApiIT {
  private static final String TOKEN = "test-admin-token";
  private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
  /** Reads numbers as written, so an assertion sees what the API answered, not a double of it. */
  private static final ObjectMapper EXACT = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
      .build();
  private static final SecretCipher CIPHER = SecretCipher.fromBase64(SecretCipher.generateKey());
  private static ApiFixture fixture;
  private static Vertx vertx;
  private static String topic;
  private static InstallationStore store;
  private static HttpServer server;
  private static WebClient client;

  private final String account = "acc-" + UUID.randomUUID();

  @BeforeAll
  static void start() throws Exception {
    fixture = ApiFixture.start(CIPHER, (vertx, store) -> new InstallApi(vertx, store,
        new FakeEndpointCheck("internal.example"), LogoCheck.NONE, CIPHER, TOKEN, Clock.fixed(NOW, ZoneOffset.UTC),
        java.time.Duration.ofSeconds(60), AccessTokens.fromSecretsKey(SecretCipher.generateKey(), Clock.systemUTC())));
    vertx = fixture.vertx();
    topic = fixture.topic();
    store = fixture.store();
    server = fixture.server();
    client = fixture.client();
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @Test
  void installsTheSpecExampleAndReadsItBack() throws Exception {
    HttpResponse<Buffer> created = post(specExample());
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(created.getHeader("ac-revision")).isEqualTo("1");
    JsonNode body = json(created);
    String id = body.get("id").asText();
    String secret = body.get("client_secret").asText();
    assertThat(body.get("client_id").asText()).isEqualTo(id);
    assertThat(UUID.fromString(id)).isNotNull();
    assertThat(secret).hasSizeGreaterThanOrEqualTo(32);
    assertThat(body.get("webhook_secret").asText()).isEqualTo(Signer.webhookSecret(secret));
    assertThat(body.get("client_id_issued_at").asLong()).isEqualTo(NOW.getEpochSecond());
    assertThat(body.get("client_name").asText()).isEqualTo("My First LE-App");
    assertThat(body.get("engagement")).isNull();
    assertThat(body.at("/capabilities/engagement/goal")).isEqualTo(specExample().at("/capabilities/engagement/goal"));
    assertThat(body.at("/capabilities/webhooks").size()).isEqualTo(5);

    HttpResponse<Buffer> read = request(HttpMethod.GET, base() + "/" + id).send().await();
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.getHeader("ac-revision")).isEqualTo("1");
    assertThat(json(read)).isEqualTo(body);

    Installation installation = store.find(id).orElseThrow();
    assertThat(installation.accountId()).isEqualTo(account);
    assertThat(installation.enabled()).isTrue();
    assertThat(installation.signingSecrets()).containsExactly(secret);
    assertThat(installation.webhooks()).containsOnlyKeys(WebhookKeys.ALL);
    assertThat(installation.webhooks().get(WebhookKeys.CONTENT).maxRetries()).isEqualTo(3);
    assertThat(installation.webhooks().get(WebhookKeys.CONTENT).headers()).containsExactly(new Header("NAME", "VALUE"));
    assertThat(installation.webhooks().get(WebhookKeys.CHAT_STATE).maxRetries()).isZero();
  }

  @Test
  void acceptsAndIgnoresTheVersionParameter() {
    HttpResponse<Buffer> created = request(HttpMethod.POST, base() + "?v=1.0")
        .putHeader("content-type", "application/json").sendBuffer(buffer(specExample())).await();
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(request(HttpMethod.GET, base() + "?v=1.0").send().await().statusCode()).isEqualTo(200);
  }

  @Test
  void storesTheClientSecretOnlyEncrypted() {
    JsonNode body = json(post(specExample()));
    String id = body.get("id").asText();
    String secret = body.get("client_secret").asText();
    ConsumerRecord<String, byte[]> record = InstallationTopics.records(topic).stream()
        .filter(r -> id.equals(r.key())).findFirst().orElseThrow();
    String value = new String(record.value(), StandardCharsets.UTF_8);
    assertThat(value).doesNotContain(secret).doesNotContain("client_secret\":\"" + secret).contains("\"v1:")
        .contains(account);
  }

  @Test
  void listsOnlyTheAccountsInstallations() {
    String first = json(post(withWebhook(WebhookKeys.CONTENT, "https://a.example/h"))).get("id").asText();
    String second = json(post(withWebhook(WebhookKeys.CHAT_STATE, "https://b.example/h"))).get("id").asText();
    request(HttpMethod.POST, "/api/account/other-" + account + "/configuration/app-install/installations")
        .putHeader("content-type", "application/json").sendBuffer(buffer(specExample())).await();

    HttpResponse<Buffer> list = request(HttpMethod.GET, base()).send().await();
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(json(list).findValuesAsText("id")).containsExactlyInAnyOrder(first, second);
  }

  @Test
  void deletesThenAnswers404AndTheViewNoLongerServesIt() {
    String id = json(post(specExample())).get("id").asText();

    assertThat(request(HttpMethod.DELETE, base() + "/" + id).send().await().statusCode()).isEqualTo(204);
    assertThat(store.find(id)).isEmpty();
    assertThat(store.installationsOf(account)).isEmpty();
    HttpResponse<Buffer> read = request(HttpMethod.GET, base() + "/" + id).send().await();
    assertThat(read.statusCode()).isEqualTo(404);
    assertThat(json(read).at("/errors/0/code").asText()).isEqualTo("not-found");
    assertThat(request(HttpMethod.DELETE, base() + "/" + id).send().await().statusCode()).isEqualTo(404);
  }

  @Test
  void hidesAnotherAccountsInstallation() {
    String id = json(post(specExample())).get("id").asText();
    String elsewhere = "/api/account/other/configuration/app-install/installations/" + id;
    assertThat(request(HttpMethod.GET, elsewhere).send().await().statusCode()).isEqualTo(404);
    assertThat(request(HttpMethod.DELETE, elsewhere).send().await().statusCode()).isEqualTo(404);
    assertThat(store.find(id)).isPresent();
  }

  @Test
  void refusesAMissingOrWrongTokenAlike() {
    HttpResponse<Buffer> missing = client.request(HttpMethod.GET, server.actualPort(), "localhost", base()).send()
        .await();
    HttpResponse<Buffer> wrong = client.request(HttpMethod.GET, server.actualPort(), "localhost", base())
        .putHeader("Authorization", "Bearer " + TOKEN + "x").send().await();
    HttpResponse<Buffer> basic = client.request(HttpMethod.POST, server.actualPort(), "localhost", base())
        .putHeader("Authorization", "Basic " + TOKEN).sendBuffer(buffer(specExample())).await();
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(basic.statusCode()).isEqualTo(401);
    assertThat(wrong.bodyAsString()).isEqualTo(missing.bodyAsString()).isEqualTo(basic.bodyAsString());
    assertThat(List.of(missing, wrong, basic)).as("RFC 6750: a 401 names the scheme it asks for")
        .allSatisfy(r -> assertThat(r.headers().getAll("WWW-Authenticate")).containsExactly("Bearer"));
    assertThat(store.installationsOf(account)).isEmpty();
  }

  @Test
  void answersAPathThatCannotBeDecodedWithTheApisJson400() {
    for (String path : List.of("/api/account/%zz/configuration/app-install/installations", "/%", "/oauth/token%G0")) {
      HttpResponse<Buffer> undecodable = client.request(HttpMethod.GET, server.actualPort(), "localhost", path)
          .send().await();
      assertThat(undecodable.statusCode()).as(path).isEqualTo(400);
      assertThat(undecodable.getHeader("content-type")).as(path).isEqualTo("application/json");
      assertThat(undecodable.bodyAsString()).as(path)
          .isEqualTo("{\"errors\":[{\"code\":\"bad-request\",\"message\":\"the request cannot be read\"}]}");
    }
  }

  @Test
  void answersAnUnknownPathOrMethodWithTheApisJsonErrorAndNoTokenCheck() {
    for (String path : List.of("/", "/nope", "/api/anything", "/api/account/a/other")) {
      HttpResponse<Buffer> unknown = client.request(HttpMethod.GET, server.actualPort(), "localhost", path).send()
          .await();
      assertThat(unknown.statusCode()).as(path).isEqualTo(404);
      assertThat(unknown.getHeader("content-type")).as(path).isEqualTo("application/json");
      assertThat(unknown.bodyAsString()).as(path)
          .isEqualTo("{\"errors\":[{\"code\":\"not-found\",\"message\":\"no such resource\"}]}");
      assertThat(unknown.getHeader("WWW-Authenticate")).as(path).isNull();
    }
    HttpResponse<Buffer> patch = request(HttpMethod.PATCH, base() + "/some-id").send().await();
    assertThat(patch.statusCode()).isEqualTo(405);
    assertThat(patch.bodyAsString()).isEqualTo(
        "{\"errors\":[{\"code\":\"method-not-allowed\",\"message\":\"this method is not allowed on this resource\"}]}");
    assertThat(patch.getHeader("Allow")).isEqualTo("GET, PUT, DELETE");
    assertThat(request(HttpMethod.DELETE, base()).send().await().getHeader("Allow")).isEqualTo("GET, POST");
    assertThat(request(HttpMethod.GET, base() + "/some-id/secret").send().await().getHeader("Allow")).isEqualTo("POST");
    assertThat(request(HttpMethod.PATCH, base() + "/some-id/").send().await().getHeader("Allow"))
        .as("a trailing slash is the same resource").isEqualTo("GET, PUT, DELETE");
    HttpResponse<Buffer> getToken = client.request(HttpMethod.GET, server.actualPort(), "localhost", "/oauth/token")
        .send().await();
    assertThat(getToken.statusCode()).isEqualTo(405);
    assertThat(getToken.getHeader("Allow")).isEqualTo("POST");
  }

  @Test
  void reportsEveryViolationAtItsPath() {
    ObjectNode manifest = withWebhook(WebhookKeys.CONTENT, "http://example.com/h");
    manifest.remove("client_name");
    ObjectNode webhooks = (ObjectNode) manifest.get("capabilities").get("webhooks");
    webhooks.putObject(WebhookKeys.RICH_CONTENT).put("endpoint", "https://example.com").put("max_retries", -1);
    webhooks.putObject(WebhookKeys.ACCEPT_STATUS).put("endpoint", "https://example.com").put("max_retries", 6);
    webhooks.putObject(WebhookKeys.CHAT_STATE).put("endpoint", "https://example.com").put("max_retries", "3");
    webhooks.putObject("ms.MessagingEventNotification.Unknown").put("endpoint", "https://example.com");

    HttpResponse<Buffer> response = post(manifest);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).get("errors").findValuesAsText("path")).containsExactlyInAnyOrder(
        "client_name",
        "capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].endpoint",
        "capabilities.webhooks['ms.MessagingEventNotification.RichContentEvent'].max_retries",
        "capabilities.webhooks['ms.MessagingEventNotification.AcceptStatusEvent'].max_retries",
        "capabilities.webhooks['ms.MessagingEventNotification.ChatStateEvent'].max_retries",
        "capabilities.webhooks['ms.MessagingEventNotification.Unknown']");
    assertThat(json(response).at("/errors/1/message").asText()).isEqualTo("must start with https://");
    assertThat(store.installationsOf(account)).isEmpty();
  }

  @Test
  void reportsAnEndpointTheCheckRefusesAtItsPath() {
    ObjectNode manifest = withWebhook(WebhookKeys.CONTENT, "https://internal.example/h");
    webhook(manifest, WebhookKeys.CONTENT).put("max_retries", 9);
    HttpResponse<Buffer> response = post(manifest);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.bodyAsString()).isEqualTo("{\"errors\":["
        + "{\"path\":\"capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].max_retries\","
        + "\"message\":\"must be a whole number from 0 to 5\"},"
        + "{\"path\":\"capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].endpoint\","
        + "\"message\":\"" + FakeEndpointCheck.REFUSAL + "\"}]}");
  }

  @Test
  void anEndpointUnderAnUnknownWebhookKeyIsNotCheckedToo() {
    ObjectNode manifest = specExample();
    ((ObjectNode) manifest.get("capabilities").get("webhooks")).putObject("ms.MessagingEventNotification.Unknown")
        .put("endpoint", "https://internal.example/h"); // the check would refuse it
    HttpResponse<Buffer> response = post(manifest);
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(json(response).get("errors").findValuesAsText("path"))
        .containsExactly("capabilities.webhooks['ms.MessagingEventNotification.Unknown']");
  }

  @Test
  void refusesABodyOver64KiB() {
    ObjectNode manifest = specExample().put("description", "x".repeat(InstallApi.BODY_LIMIT));
    HttpResponse<Buffer> response = post(manifest);
    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(json(response).at("/errors/0/code").asText()).isEqualTo("too-large");
  }

  @Test
  void refusesABodyThatIsNotJson() {
    HttpResponse<Buffer> text = request(HttpMethod.POST, base()).putHeader("content-type", "text/plain")
        .sendBuffer(buffer(specExample())).await();
    HttpResponse<Buffer> broken = request(HttpMethod.POST, base()).putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer("{\"client_name\":")).await();
    HttpResponse<Buffer> empty = request(HttpMethod.POST, base()).putHeader("content-type", "application/json")
        .send().await();
    assertThat(text.statusCode()).isEqualTo(415);
    assertThat(empty.statusCode()).isEqualTo(400);
    assertThat(json(empty).at("/errors/0/message").asText()).contains("empty");
    assertThat(broken.statusCode()).isEqualTo(400);
    assertThat(json(broken).at("/errors/0/path").asText()).isEqualTo("$");
    assertThat(json(broken).at("/errors/0/message").asText())
        .isEqualTo("is not valid JSON at line 1, column 16: Unexpected end-of-input within/between Object entries");
    HttpResponse<Buffer> unquoted = request(HttpMethod.POST, base()).putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer("{\n  \"client_name\": \"a\",\n  description: \"b\"\n}")).await();
    assertThat(json(unquoted).at("/errors/0/message").asText()).isEqualTo("is not valid JSON at line 3, column 3:"
        + " Unexpected character ('d' (code 100)): was expecting double-quote to start field name");
  }

  @Test
  void refusesContentAfterTheManifest() {
    Map<String, String> bodies = Map.of(
        "{\"client_name\":\"a\"}{\"client_name\":\"b\"}",
        "is not valid JSON at line 1, column 20: more follows the manifest's JSON value; send one JSON object",
        "{\"client_name\":\"a\"} garbage", "is not valid JSON at line 1, column 21: Unrecognized token 'garbage': was"
            + " expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')");
    bodies.forEach((body, message) -> {
      HttpResponse<Buffer> response = request(HttpMethod.POST, base()).putHeader("content-type", "application/json")
          .sendBuffer(Buffer.buffer(body)).await();
      assertThat(response.statusCode()).as(body).isEqualTo(400);
      assertThat(json(response).at("/errors/0/path").asText()).isEqualTo("$");
      assertThat(json(response).at("/errors/0/message").asText()).isEqualTo(message);
    });
    assertThat(store.installationsOf(account)).isEmpty();
  }

  @Test
  void refusesAManifestNestedTooDeeplyAtThePathWhereItIs() {
    // 1000 levels, as deep as Jackson parses; the stored record would hold them one level deeper (a 500 once)
    String tooDeep = "{\"client_name\":\"a\",\"future\":" + "[".repeat(999) + "]".repeat(999) + "}";
    HttpResponse<Buffer> refused = request(HttpMethod.POST, base()).putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(tooDeep)).await();
    assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(400);
    assertThat(json(refused).get("errors").findValuesAsText("path"))
        .containsExactly("future" + "[0]".repeat(ManifestValidator.MAX_DEPTH - 1));
    assertThat(store.installationsOf(account)).isEmpty();

    int deepest = ManifestValidator.MAX_DEPTH - 1; // the manifest itself is a level
    String deepEnough = "{\"client_name\":\"a\",\"future\":" + "[".repeat(deepest) + "]".repeat(deepest) + "}";
    HttpResponse<Buffer> created = request(HttpMethod.POST, base()).putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(deepEnough)).await();
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    assertThat(json(created).get("future").toString()).isEqualTo("[".repeat(deepest) + "]".repeat(deepest));
  }

  @Test
  void keepsTheNumbersOfUnknownFieldsExactly() throws Exception {
    String manifest = "{\"client_name\":\"a\",\"huge\":1e400,\"precise\":0.10000000000000000001,"
        + "\"scaled\":1.10,\"big\":123456789012345678901234567890}";
    HttpResponse<Buffer> created = request(HttpMethod.POST, base()).putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(manifest)).await();
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);

    HttpResponse<Buffer> read = request(HttpMethod.GET, base() + "/" + json(created).get("id").asText()).send().await();
    JsonNode body = EXACT.readTree(read.bodyAsString());
    assertThat(body.get("huge").decimalValue()).isEqualTo(new BigDecimal("1e400"));
    assertThat(body.get("precise").decimalValue()).isEqualTo(new BigDecimal("0.10000000000000000001"));
    assertThat(body.get("scaled").decimalValue()).isEqualTo(new BigDecimal("1.10"));
    assertThat(body.get("big").bigIntegerValue()).isEqualTo(new BigInteger("123456789012345678901234567890"));
  }

  @Test
  void importsCredentialsAndRefusesATakenClientId() {
    String clientId = "imported-" + UUID.randomUUID();
    ObjectNode manifest = specExample().put("client_id", clientId).put("client_secret", "legacy-secret-123");

    HttpResponse<Buffer> created = post(manifest);
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(json(created).get("id").asText()).isEqualTo(clientId);
    assertThat(json(created).get("client_secret").asText()).isEqualTo("legacy-secret-123");
    assertThat(store.find(clientId).orElseThrow().currentSecret()).isEqualTo("legacy-secret-123");
    assertThat(store.find(clientId).orElseThrow().manifest().has("client_secret")).isFalse();

    HttpResponse<Buffer> again = post(manifest.put("client_secret", "another-secret"));
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(store.find(clientId).orElseThrow().currentSecret()).isEqualTo("legacy-secret-123");
  }

  @Test
  void installsADisabledApp() {
    HttpResponse<Buffer> created = post(specExample().put("enabled", false));
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(json(created).get("enabled").asBoolean()).isFalse();
    assertThat(store.find(json(created).get("id").asText()).orElseThrow().enabled()).isFalse();
  }

  private String base() {
    return "/api/account/" + account + "/configuration/app-install/installations";
  }

  private HttpRequest<Buffer> request(HttpMethod method, String uri) {
    return client.request(method, server.actualPort(), "localhost", uri).putHeader("Authorization", "Bearer " + TOKEN);
  }

  private HttpResponse<Buffer> post(JsonNode manifest) {
    return request(HttpMethod.POST, base()).putHeader("content-type", "application/json")
        .sendBuffer(buffer(manifest)).await();
  }

  private static Buffer buffer(JsonNode json) {
    return Buffer.buffer(json.toString());
  }

  private static JsonNode json(HttpResponse<Buffer> response) {
    try {
      return MAPPER.readTree(response.bodyAsString());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + response.bodyAsString(), e);
    }
  }
}
