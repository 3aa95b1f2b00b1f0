package dev.webhooks.dispatcher.install;

import static dev.webhooks.dispatcher.install.Manifests.MAPPER;
import static dev.webhooks.dispatcher.install.Manifests.specExample;
import static dev.webhooks.dispatcher.install.Manifests.withWebhook;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.webhooks.dispatcher.signing.Signer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Changing an installed app: full updates with revisions, enable and disable, method override, secret rotation. */
class InstallUpdateIT {
  private static final String TOKEN = "test-admin-token";
  private static final Duration GRACE = Duration.ofSeconds(2);
  private static final SecretCipher CIPHER = SecretCipher.fromBase64(SecretCipher.generateKey());
  private static ApiFixture fixture;
  private static Vertx vertx;
  private static InstallationStore store;
  private static HttpServer server;
  private static WebClient client;

  private final String account = "acc-" + UUID.randomUUID();

  @BeforeAll
  static void start() throws Exception {
    fixture = ApiFixture.start(CIPHER, (vertx, store) -> new InstallApi(vertx, store,
        new FakeEndpointCheck("internal.example"), LogoCheck.NONE, CIPHER, TOKEN, Clock.systemUTC(), GRACE,
        AccessTokens.fromSecretsKey(SecretCipher.generateKey(), Clock.systemUTC())));
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
  void updatesTheWholeManifestAndBumpsTheRevision() {
    JsonNode created = json(send(HttpMethod.POST, base(), specExample(), null));
    String id = created.get("id").asText();
    ObjectNode changed = withWebhook(WebhookKeys.CHAT_STATE, "https://new.example/h").put("description", "v2");

    HttpResponse<Buffer> updated = send(HttpMethod.PUT, base() + "/" + id, changed, "\"1\"");

    assertThat(updated.statusCode()).as(updated.bodyAsString()).isEqualTo(200);
    assertThat(updated.getHeader("ac-revision")).isEqualTo("2");
    JsonNode body = json(updated);
    assertThat(body.get("id").asText()).isEqualTo(id);
    assertThat(body.get("client_secret").asText()).isEqualTo(created.get("client_secret").asText());
    assertThat(body.get("client_id_issued_at")).isEqualTo(created.get("client_id_issued_at"));
    assertThat(body.get("description").asText()).isEqualTo("v2");
    assertThat(body.get("grant_types")).isNull();
    Installation installation = store.find(id).orElseThrow();
    assertThat(installation.webhooks()).containsOnlyKeys(WebhookKeys.CHAT_STATE);
    assertThat(installation.revision()).isEqualTo("2");
    assertThat(request(HttpMethod.GET, base() + "/" + id).send().await().getHeader("ac-revision")).isEqualTo("2");
  }

  @Test
  void acceptsWhatItServedBackUnchanged() {
    String id = json(send(HttpMethod.POST, base(), specExample(), null)).get("id").asText();
    JsonNode read = json(request(HttpMethod.GET, base() + "/" + id).send().await());

    HttpResponse<Buffer> updated = send(HttpMethod.PUT, base() + "/" + id, read, "1");

    assertThat(updated.statusCode()).as(updated.bodyAsString()).isEqualTo(200);
    ObjectNode expected = ((ObjectNode) read.deepCopy());
    assertThat(json(updated)).isEqualTo(expected);
  }

  @Test
  void refusesAStaleRevisionWith412AndChangesNothing() {
    String id = json(send(HttpMethod.POST, base(), specExample(), null)).get("id").asText();
    assertThat(send(HttpMethod.PUT, base() + "/" + id, specExample().put("description", "a"), "1").statusCode())
        .isEqualTo(200);

    HttpResponse<Buffer> stale = send(HttpMethod.PUT, base() + "/" + id, specExample().put("description", "b"), "1");
    HttpResponse<Buffer> staleHeader = request(HttpMethod.PUT, base() + "/" + id).putHeader("ac-revision", "1")
        .putHeader("content-type", "application/json").sendBuffer(Buffer.buffer(specExample().toString())).await();
    HttpResponse<Buffer> staleDelete = request(HttpMethod.DELETE, base() + "/" + id).putHeader("If-Match", "\"1\"")
        .send().await();

    assertThat(stale.statusCode()).isEqualTo(412);
    assertThat(json(stale).at("/errors/0/code").asText()).isEqualTo("precondition-failed");
    assertThat(json(stale).at("/errors/0/message").asText()).contains("revision 2");
    assertThat(staleHeader.statusCode()).isEqualTo(412);
    assertThat(staleDelete.statusCode()).isEqualTo(412);
    assertThat(store.find(id).orElseThrow().manifest().get("description").asText()).isEqualTo("a");
    assertThat(send(HttpMethod.PUT, base() + "/" + id, specExample(), "W/\"2\"").statusCode()).isEqualTo(200);
  }

  @Test
  void ofConcurrentUpdatesWithOneRevisionExactlyOneWins() {
    String id = json(send(HttpMethod.POST, base(), specExample(), null)).get("id").asText();
    List<Future<HttpResponse<Buffer>>> racing = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      racing.add(request(HttpMethod.PUT, base() + "/" + id).putHeader("If-Match", "1")
          .putHeader("content-type", "application/json")
          .sendBuffer(Buffer.buffer(specExample().put("description", "writer " + i).toString())));
    }
    Future.join(racing).await();

    List<Integer> statuses = racing.stream().map(f -> f.result().statusCode()).toList();
    assertThat(statuses).containsOnly(200, 412).containsOnlyOnce(200);
    String winner = racing.stream().map(Future::result).filter(r -> r.statusCode() == 200)
        .map(r -> json(r).get("description").asText()).findFirst().orElseThrow();
    assertThat(store.find(id).orElseThrow().manifest().get("description").asText()).isEqualTo(winner);
    assertThat(store.find(id).orElseThrow().revision()).isEqualTo("2");
  }

  @Test
  void disablesAndEnablesThroughAnUpdate() {
    String id = json(send(HttpMethod.POST, base(), specExample(), null)).get("id").asText();

    HttpResponse<Buffer> disabled = send(HttpMethod.PUT, base() + "/" + id, specExample().put("enabled", false), null);
    assertThat(disabled.statusCode()).isEqualTo(200);
    assertThat(json(disabled).get("enabled").asBoolean()).isFalse();
    assertThat(store.find(id).orElseThrow().enabled()).isFalse();

    HttpResponse<Buffer> enabled = send(HttpMethod.PUT, base() + "/" + id, specExample().put("enabled", true), null);
    assertThat(json(enabled).get("enabled").asBoolean()).isTrue();
    assertThat(store.find(id).orElseThrow().enabled()).isTrue();
  }

  @Test
  void takesAPostWithMethodOverrideAsAnUpdate() {
    String id = json(send(HttpMethod.POST, base(), specExample(), null)).get("id").asText();

    HttpResponse<Buffer> overridden = request(HttpMethod.POST, base() + "/" + id)
        .putHeader("X-HTTP-Method-Override", "PUT").putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(specExample().put("description", "via override").toString())).await();
    HttpResponse<Buffer> plainPost = send(HttpMethod.POST, base() + "/" + id, specExample(), null);

    assertThat(overridden.statusCode()).as(overridden.bodyAsString()).isEqualTo(200);
    assertThat(store.find(id).orElseThrow().manifest().get("description").asText()).isEqualTo("via override");
    assertThat(plainPost.statusCode()).isEqualTo(405);
    assertThat(plainPost.getHeader("Allow")).isEqualTo("GET, PUT, DELETE");
    assertThat(json(plainPost).at("/errors/0/code").asText()).isEqualTo("method-not-allowed");
  }

  @Test
  void refusesBadUpdatesWithTheDocumentedErrors() {
    String id = json(send(HttpMethod.POST, base(), specExample(), null)).get("id").asText();
    ObjectNode invalid = specExample().put("client_id", "another-id").put("client_secret", "a-new-secret-chosen");
    ((ObjectNode) invalid.at("/capabilities/webhooks/ms.MessagingEventNotification.ContentEvent"))
        .put("max_retries", 6);

    HttpResponse<Buffer> bad = send(HttpMethod.PUT, base() + "/" + id, invalid, null);
    HttpResponse<Buffer> missing = send(HttpMethod.PUT, base() + "/" + UUID.randomUUID(), specExample(), null);
    HttpResponse<Buffer> otherAccount = send(HttpMethod.PUT,
        "/api/account/other/configuration/app-install/installations/" + id, specExample(), null);
    HttpResponse<Buffer> text = request(HttpMethod.PUT, base() + "/" + id).putHeader("content-type", "text/plain")
        .sendBuffer(Buffer.buffer("{}")).await();
    HttpResponse<Buffer> tooLarge = send(HttpMethod.PUT, base() + "/" + id,
        specExample().put("description", "x".repeat(InstallApi.BODY_LIMIT)), null);
    HttpResponse<Buffer> noToken = client.request(HttpMethod.PUT, server.actualPort(), "localhost", base() + "/" + id)
        .sendBuffer(Buffer.buffer(specExample().toString())).await();

    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).get("errors").findValuesAsText("path")).containsExactlyInAnyOrder("client_id",
        "client_secret",
        "capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].max_retries");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(otherAccount.statusCode()).isEqualTo(404);
    assertThat(text.statusCode()).isEqualTo(415);
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(noToken.statusCode()).isEqualTo(401);
    assertThat(store.find(id).orElseThrow().revision()).isEqualTo("1");
  }

  @Test
  void rotatesTheSecretKeepingTheOldOneForTheGracePeriod() {
    JsonNode created = json(send(HttpMethod.POST, base(), specExample(), null));
    String id = created.get("id").asText();
    String old = created.get("client_secret").asText();

    HttpResponse<Buffer> rotated = request(HttpMethod.POST, base() + "/" + id + "/secret").send().await();

    assertThat(rotated.statusCode()).as(rotated.bodyAsString()).isEqualTo(200);
    assertThat(rotated.getHeader("ac-revision")).isEqualTo("2");
    String fresh = json(rotated).get("client_secret").asText();
    assertThat(fresh).isNotEqualTo(old).hasSizeGreaterThanOrEqualTo(32);
    assertThat(json(rotated).get("webhook_secret").asText()).isEqualTo(Signer.webhookSecret(fresh));
    assertThat(json(rotated).get("client_id").asText()).isEqualTo(id);
    assertThat(store.find(id).orElseThrow().signingSecrets()).containsExactly(fresh, old);

    await().atMost(Duration.ofSeconds(10)).until(() -> store.find(id).orElseThrow().signingSecrets().size() == 1);
    assertThat(store.find(id).orElseThrow().signingSecrets()).containsExactly(fresh);
    assertThat(request(HttpMethod.POST, base() + "/nope/secret").send().await().statusCode()).isEqualTo(404);
  }

  @Test
  void ofConcurrentRotationsFromOneRevisionExactlyOneGetsANewSecret() {
    String id = json(send(HttpMethod.POST, base(), specExample(), null)).get("id").asText();

    List<Future<HttpResponse<Buffer>>> racing = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      racing.add(request(HttpMethod.POST, base() + "/" + id + "/secret").putHeader("If-Match", "\"1\"").send());
    }
    Future.join(racing).await();

    List<Integer> statuses = racing.stream().map(f -> f.result().statusCode()).toList();
    assertThat(statuses).containsOnly(200, 412).containsOnlyOnce(200);
    String issued = racing.stream().map(Future::result).filter(r -> r.statusCode() == 200)
        .map(r -> json(r).get("client_secret").asText()).findFirst().orElseThrow();
    await().atMost(Duration.ofSeconds(10)).until(() -> store.find(id).orElseThrow().revision().equals("2"));
    assertThat(store.find(id).orElseThrow().currentSecret()).isEqualTo(issued);
  }

  private String base() {
    return "/api/account/" + account + "/configuration/app-install/installations";
  }

  private HttpRequest<Buffer> request(HttpMethod method, String uri) {
    return client.request(method, server.actualPort(), "localhost", uri).putHeader("Authorization", "Bearer " + TOKEN);
  }

  private HttpResponse<Buffer> send(HttpMethod method, String uri, JsonNode body, String ifMatch) {
    HttpRequest<Buffer> request = request(method, uri).putHeader("content-type", "application/json");
    if (ifMatch != null) {
      request.putHeader("If-Match", ifMatch);
    }
    return request.sendBuffer(Buffer.buffer(body.toString())).await();
  }

  private static JsonNode json(HttpResponse<Buffer> response) {
    try {
      return MAPPER.readTree(response.bodyAsString());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + response.bodyAsString(), e);
    }
  }
}
