package dev.webhooks.dispatcher.install;

import static dev.webhooks.dispatcher.install.Manifests.MAPPER;
import static dev.webhooks.dispatcher.install.Manifests.specExample;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.testing.TestClock;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** OAuth 2.0 client credentials: a token per app, scoped to its own installation, short-lived. */
class OAuthIT {
  private static final String ADMIN = "test-admin-token";
  private static final String SECRETS_KEY = SecretCipher.generateKey();
  private static final SecretCipher CIPHER = SecretCipher.fromBase64(SECRETS_KEY);
  private static final TestClock CLOCK = new TestClock(Instant.now());
  private static ApiFixture fixture;
  private static Vertx vertx;
  private static InstallationStore store;
  private static HttpServer server;
  private static WebClient client;

  private final String account = "acc-" + UUID.randomUUID();

  @BeforeAll
  static void start() throws Exception {
    fixture = ApiFixture.start(CIPHER, (vertx, store) -> new InstallApi(vertx, store, new FakeEndpointCheck(),
        LogoCheck.NONE, CIPHER, ADMIN, Clock.systemUTC(), Duration.ofHours(1), AccessTokens.fromSecretsKey(SECRETS_KEY, CLOCK)));
    vertx = fixture.vertx();
    store = fixture.store();
    server = fixture.server();
    client = fixture.client();
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @Test
  void issuesAShortLivedTokenScopedToTheInstallation() {
    JsonNode app = install(specExample());
    String id = app.get("client_id").asText();

    HttpResponse<Buffer> basic = token(form("grant_type", "client_credentials"), basic(id, secretOf(app)));
    HttpResponse<Buffer> fields = token(form("grant_type", "client_credentials", "client_id", id,
        "client_secret", secretOf(app), "scope", "msg.consumer"), null);

    assertThat(basic.statusCode()).as(basic.bodyAsString()).isEqualTo(200);
    assertThat(basic.getHeader("Cache-Control")).isEqualTo("no-store");
    JsonNode body = json(basic);
    assertThat(body.get("token_type").asText()).isEqualTo("Bearer");
    assertThat(body.get("expires_in").asLong()).isEqualTo(3600);
    assertThat(body.get("scope").asText()).isEqualTo("msg.consumer");
    JsonNode claims = claims(body.get("access_token").asText());
    assertThat(claims.get("sub").asText()).isEqualTo(id);
    assertThat(claims.get("account_id").asText()).isEqualTo(account);
    assertThat(claims.get("scope").asText()).isEqualTo("msg.consumer");
    assertThat(claims.get("exp").asLong() - claims.get("iat").asLong()).isEqualTo(3600);
    assertThat(fields.statusCode()).as(fields.bodyAsString()).isEqualTo(200);
  }

  @Test
  void anAppReadsItsOwnInstallationAndRotatesItsOwnSecretWithItsToken() {
    JsonNode app = install(specExample());
    String id = app.get("client_id").asText();
    String bearer = "Bearer " + accessToken(app);

    HttpResponse<Buffer> read = call(HttpMethod.GET, base(account) + "/" + id, bearer);
    HttpResponse<Buffer> rotated = call(HttpMethod.POST, base(account) + "/" + id + "/secret", bearer);

    assertThat(read.statusCode()).as(read.bodyAsString()).isEqualTo(200);
    assertThat(json(read).get("id").asText()).isEqualTo(id);
    assertThat(rotated.statusCode()).as(rotated.bodyAsString()).isEqualTo(200);
    String fresh = secretOf(json(rotated));
    assertThat(fresh).isNotEqualTo(secretOf(app));
    assertThat(token(form("grant_type", "client_credentials"), basic(id, fresh)).statusCode()).isEqualTo(200);
  }

  @Test
  void rotatingTheSecretEndsTheTokensOfTheOldOneAndDisablingTheAppEndsAll() {
    JsonNode app = install(specExample());
    String id = app.get("client_id").asText();
    String own = base(account) + "/" + id;
    String stolen = "Bearer " + accessToken(app);
    assertThat(call(HttpMethod.GET, own, stolen).statusCode()).isEqualTo(200);

    HttpResponse<Buffer> rotated = call(HttpMethod.POST, own + "/secret", "Bearer " + ADMIN);
    assertThat(rotated.statusCode()).as(rotated.bodyAsString()).isEqualTo(200);

    HttpResponse<Buffer> read = call(HttpMethod.GET, own, stolen);
    assertThat(read.statusCode()).as("a thief must not read the new secret").isEqualTo(401);
    assertThat(read.bodyAsString()).doesNotContain(secretOf(json(rotated)));
    assertThat(call(HttpMethod.POST, own + "/secret", stolen).statusCode()).isEqualTo(401);
    assertThat(error(token(form("grant_type", "client_credentials"), basic(id, secretOf(app)))))
        .as("the old secret, though webhooks are still signed with it during the grace").isEqualTo("invalid_client");
    String fresh = "Bearer " + accessToken(json(rotated));
    assertThat(call(HttpMethod.GET, own, fresh).statusCode()).isEqualTo(200);

    HttpResponse<Buffer> off = client.request(HttpMethod.PUT, server.actualPort(), "localhost", own)
        .putHeader("Authorization", "Bearer " + ADMIN).putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(specExample().put("enabled", false).toString())).await();
    assertThat(off.statusCode()).as(off.bodyAsString()).isEqualTo(200);
    assertThat(call(HttpMethod.GET, own, fresh).statusCode()).isEqualTo(401);
  }

  @Test
  void aTokenOfOneAppOpensNothingElse() {
    JsonNode x = install(specExample());
    JsonNode y = install(specExample());
    String elsewhere = "other-" + account;
    JsonNode z = installOn(elsewhere, specExample());
    String bearer = "Bearer " + accessToken(x);
    String own = base(account) + "/" + x.get("id").asText();

    assertThat(call(HttpMethod.GET, base(account) + "/" + y.get("id").asText(), bearer).statusCode()).isEqualTo(403);
    assertThat(call(HttpMethod.POST, base(account) + "/" + y.get("id").asText() + "/secret", bearer).statusCode())
        .isEqualTo(403);
    assertThat(call(HttpMethod.GET, base(elsewhere) + "/" + z.get("id").asText(), bearer).statusCode()).isEqualTo(403);
    assertThat(call(HttpMethod.GET, base(elsewhere) + "/" + x.get("id").asText(), bearer).statusCode()).isEqualTo(403);
    assertThat(call(HttpMethod.GET, base(account), bearer).statusCode()).isEqualTo(403);
    assertThat(call(HttpMethod.DELETE, own, bearer).statusCode()).isEqualTo(403);
    HttpResponse<Buffer> put = client.request(HttpMethod.PUT, server.actualPort(), "localhost", own)
        .putHeader("Authorization", bearer).putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(specExample().put("enabled", false).toString())).await();
    assertThat(put.statusCode()).isEqualTo(403);
    assertThat(json(put).at("/errors/0/code").asText()).isEqualTo("forbidden");
    assertThat(store.find(x.get("id").asText()).orElseThrow().enabled()).isTrue();
  }

  @Test
  void anExpiredOrForeignTokenIsRefused() {
    JsonNode app = install(specExample());
    String own = base(account) + "/" + app.get("id").asText();
    String token = accessToken(app);
    String foreign = AccessTokens.fromSecretsKey(SecretCipher.generateKey(), CLOCK)
        .issue(app.get("id").asText(), account, "", secretOf(app));

    assertThat(call(HttpMethod.GET, own, "Bearer " + foreign).statusCode()).isEqualTo(401);
    assertThat(call(HttpMethod.GET, own, "Bearer not.a.jwt").statusCode()).isEqualTo(401);
    CLOCK.advance(AccessTokens.LIFETIME);
    try {
      assertThat(call(HttpMethod.GET, own, "Bearer " + token).statusCode()).isEqualTo(401);
    } finally {
      CLOCK.advance(AccessTokens.LIFETIME.negated());
    }
    assertThat(call(HttpMethod.GET, own, "Bearer " + token).statusCode()).isEqualTo(200);
  }

  @Test
  void refusesWrongCredentialsDisabledAndUninstalledAppsWithRfc6749Errors() {
    JsonNode app = install(specExample());
    String id = app.get("id").asText();
    JsonNode disabled = install(specExample().put("enabled", false));
    JsonNode uninstalled = install(specExample());
    assertThat(call(HttpMethod.DELETE, base(account) + "/" + uninstalled.get("id").asText(), "Bearer " + ADMIN)
        .statusCode()).isEqualTo(204);
    MultiMap grant = form("grant_type", "client_credentials");

    HttpResponse<Buffer> wrongSecret = token(grant, basic(id, "wrong-secret"));
    assertThat(wrongSecret.statusCode()).isEqualTo(401);
    assertThat(json(wrongSecret).get("error").asText()).isEqualTo("invalid_client");
    assertThat(wrongSecret.getHeader("WWW-Authenticate")).startsWith("Basic");
    assertThat(error(token(grant, basic("nobody", "secret")))).isEqualTo("invalid_client");
    assertThat(error(token(grant, basic(disabled.get("id").asText(), secretOf(disabled)))))
        .isEqualTo("unauthorized_client");
    assertThat(error(token(grant, basic(uninstalled.get("id").asText(), secretOf(uninstalled)))))
        .isEqualTo("invalid_client");
    assertThat(error(token(form("grant_type", "password"), basic(id, secretOf(app)))))
        .isEqualTo("unsupported_grant_type");
    assertThat(error(token(form("scope", "msg.consumer"), basic(id, secretOf(app))))).isEqualTo("invalid_request");
    assertThat(error(token(form("grant_type", "client_credentials", "scope", "admin"), basic(id, secretOf(app)))))
        .isEqualTo("invalid_scope");
    assertThat(error(token(grant, null))).isEqualTo("invalid_request");
    HttpResponse<Buffer> json = client.request(HttpMethod.POST, server.actualPort(), "localhost", "/oauth/token")
        .putHeader("content-type", "application/json").sendBuffer(Buffer.buffer("{}")).await();
    assertThat(json.statusCode()).isEqualTo(400);
    assertThat(json(json).get("error").asText()).isEqualTo("invalid_request");
    MultiMap padded = form("grant_type", "client_credentials");
    for (int i = 0; i < 100; i++) {
      padded.add("pad" + i, "x".repeat(100)); // over 8 KiB in all, no field over Vert.x's own limit of 8 KiB
    }
    HttpResponse<Buffer> huge = token(padded, basic(id, secretOf(app)));
    assertThat(huge.statusCode()).isEqualTo(413);
    assertThat(json(huge).get("error").asText()).isEqualTo("invalid_request");
    assertThat(json(huge).get("error_description").asText()).isEqualTo("the form must be at most 8 KiB");
    assertThat(huge.getHeader("Cache-Control")).isEqualTo("no-store");
    // one field over Vert.x's own limit: 400, or 413 when a read ends just where the field passes 8 KiB
    HttpResponse<Buffer> hugeField = token(form("grant_type", "client_credentials", "scope", "x".repeat(9 * 1024)),
        basic(id, secretOf(app)));
    assertThat(hugeField.statusCode()).isIn(400, 413);
    assertThat(json(hugeField).get("error").asText()).isEqualTo("invalid_request");
    JsonNode noGrant = install(specExample().set("grant_types", MAPPER.createArrayNode()));
    assertThat(error(token(grant, basic(noGrant.get("id").asText(), secretOf(noGrant)))))
        .isEqualTo("unauthorized_client");
  }

  private String accessToken(JsonNode app) {
    HttpResponse<Buffer> response =
        token(form("grant_type", "client_credentials"), basic(app.get("id").asText(), secretOf(app)));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return json(response).get("access_token").asText();
  }

  private HttpResponse<Buffer> token(MultiMap form, String authorization) {
    HttpRequest<Buffer> request = client.request(HttpMethod.POST, server.actualPort(), "localhost", "/oauth/token");
    if (authorization != null) {
      request.putHeader("Authorization", authorization);
    }
    return request.sendForm(form).await();
  }

  private HttpResponse<Buffer> call(HttpMethod method, String uri, String authorization) {
    return client.request(method, server.actualPort(), "localhost", uri).putHeader("Authorization", authorization)
        .send().await();
  }

  private JsonNode install(JsonNode manifest) {
    return installOn(account, manifest);
  }

  private JsonNode installOn(String accountId, JsonNode manifest) {
    HttpResponse<Buffer> created = client.request(HttpMethod.POST, server.actualPort(), "localhost", base(accountId))
        .putHeader("Authorization", "Bearer " + ADMIN).putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(manifest.toString())).await();
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    return json(created);
  }

  private static String base(String accountId) {
    return "/api/account/" + accountId + "/configuration/app-install/installations";
  }

  private static String secretOf(JsonNode installation) {
    return installation.get("client_secret").asText();
  }

  private static MultiMap form(String... pairs) {
    MultiMap form = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < pairs.length; i += 2) {
      form.add(pairs[i], pairs[i + 1]);
    }
    return form;
  }

  private static String basic(String id, String secret) {
    return "Basic " + Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }

  private static String error(HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isIn(400, 401);
    return json(response).get("error").asText();
  }

  private static JsonNode claims(String jwt) {
    return parse(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  private static JsonNode json(HttpResponse<Buffer> response) {
    return parse(response.bodyAsString());
  }

  private static JsonNode parse(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }
}
