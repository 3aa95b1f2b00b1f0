package dev.webhooks.dispatcher.install;

import static dev.webhooks.dispatcher.install.Manifests.MAPPER;
import static dev.webhooks.dispatcher.install.Manifests.specExample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two instances of the API on one installations topic, as the pods behind one Service. Of two changes made from one
 * revision, or two imports of one client id, sent to both at once, exactly one wins; both views end the same, and so
 * does the last record of the installation in the topic (what compaction keeps).
 */
class WritesAcrossInstancesIT {
  private static final String TOKEN = "test-admin-token";
  private static final SecretCipher CIPHER = SecretCipher.fromBase64(SecretCipher.generateKey());
  /** Each round races two requests once; a few rounds let either of them be first in the log. */
  private static final int ROUNDS = 5;
  private static String topic;
  private static ApiFixture first;
  private static ApiFixture second;

  private final String account = "acc-" + UUID.randomUUID();

  @BeforeAll
  static void start() throws Exception {
    topic = InstallationTopics.create(1);
    first = ApiFixture.start(CIPHER, topic, WritesAcrossInstancesIT::api);
    second = ApiFixture.start(CIPHER, topic, WritesAcrossInstancesIT::api);
  }

  @AfterAll
  static void stop() {
    first.close();
    second.close();
  }

  @Test
  void ofTwoUpdatesFromOneRevisionExactlyOneWins() {
    for (int round = 0; round < ROUNDS; round++) {
      String id = installedOnBoth();

      List<HttpResponse<Buffer>> answers = together(
          put(first, id, "\"1\"", specExample().put("description", "first")),
          put(second, id, "\"1\"", specExample().put("description", "second")));

      assertThat(statuses(answers)).containsExactlyInAnyOrder(200, 412);
      HttpResponse<Buffer> won = answers.stream().filter(a -> a.statusCode() == 200).findFirst().orElseThrow();
      HttpResponse<Buffer> lost = answers.stream().filter(a -> a.statusCode() == 412).findFirst().orElseThrow();
      assertThat(won.getHeader("ac-revision")).isEqualTo("2");
      assertThat(json(lost).at("/errors/0/code").asText()).isEqualTo("precondition-failed");
      String winner = json(won).get("description").asText();
      awaitAgreement(id, stored -> assertThat(stored).hasValueSatisfying(s -> {
        assertThat(s.revision()).isEqualTo(2);
        assertThat(s.manifest().get("description").asText()).isEqualTo(winner);
      }));
    }
  }

  @Test
  void ofADeleteAndAnUpdateFromOneRevisionExactlyOneWins() {
    for (int round = 0; round < ROUNDS; round++) {
      String id = installedOnBoth();

      List<HttpResponse<Buffer>> answers = together(
          delete(first, id, "\"1\""),
          put(second, id, "\"1\"", specExample().put("description", "updated")));

      List<Integer> statuses = statuses(answers);
      assertThat(statuses).isIn(List.of(204, 404), List.of(412, 200));
      boolean deleted = statuses.get(0) == 204;
      awaitAgreement(id, stored -> {
        if (deleted) {
          assertThat(stored).isEmpty();
        } else {
          assertThat(stored).hasValueSatisfying(s -> assertThat(s.revision()).isEqualTo(2));
        }
      });
    }
  }

  /** A DELETE without If-Match deletes whatever is there: an update either came first (200) or finds nothing (404). */
  @Test
  void aDeleteRacingAnUpdateLeavesTheAppDeleted() {
    for (int round = 0; round < ROUNDS; round++) {
      String id = installedOnBoth();

      List<HttpResponse<Buffer>> answers = together(
          delete(first, id, null),
          put(second, id, "\"1\"", specExample().put("description", "updated")));

      assertThat(answers.get(0).statusCode()).isEqualTo(204);
      assertThat(answers.get(1).statusCode()).isIn(200, 404);
      awaitAgreement(id, stored -> assertThat(stored).isEmpty());
    }
  }

  /** Without If-Match the later change is made on the earlier one, so neither the new secret nor the update is lost. */
  @Test
  void aRotationAndAnUpdateWithoutRevisionBothTakeEffect() {
    for (int round = 0; round < ROUNDS; round++) {
      String id = installedOnBoth();

      List<HttpResponse<Buffer>> answers = together(
          request(first, HttpMethod.POST, base(account) + "/" + id + "/secret").send(),
          put(second, id, null, specExample().put("description", "updated")));

      assertThat(statuses(answers)).containsExactly(200, 200);
      String rotated = json(answers.get(0)).get("client_secret").asText();
      awaitAgreement(id, stored -> assertThat(stored).hasValueSatisfying(s -> {
        assertThat(s.revision()).isEqualTo(3);
        assertThat(s.open(id, CIPHER, 0).currentSecret()).isEqualTo(rotated);
        assertThat(s.manifest().get("description").asText()).isEqualTo("updated");
      }));
    }
  }

  @Test
  void ofTwoImportsOfOneClientIdExactlyOneWins() {
    for (int round = 0; round < ROUNDS; round++) {
      String id = "imported-" + UUID.randomUUID();
      String otherAccount = account + "-other";

      List<HttpResponse<Buffer>> answers = together(
          post(first, account, specExample().put("client_id", id).put("client_secret", "secret-of-first")),
          post(second, otherAccount, specExample().put("client_id", id).put("client_secret", "secret-of-second")));

      assertThat(statuses(answers)).containsExactlyInAnyOrder(201, 409);
      int winner = answers.get(0).statusCode() == 201 ? 0 : 1;
      assertThat(json(answers.get(1 - winner)).at("/errors/0/code").asText()).isEqualTo("conflict");
      String winningAccount = winner == 0 ? account : otherAccount;
      String winningSecret = winner == 0 ? "secret-of-first" : "secret-of-second";
      awaitAgreement(id, stored -> assertThat(stored).hasValueSatisfying(s -> {
        assertThat(s.accountId()).isEqualTo(winningAccount);
        assertThat(s.open(id, CIPHER, 0).currentSecret()).isEqualTo(winningSecret);
      }));
    }
  }

  private static InstallApi api(Vertx vertx, InstallationStore store) {
    return new InstallApi(vertx, store, new FakeEndpointCheck(), LogoCheck.NONE, CIPHER, TOKEN, Clock.systemUTC(),
        Duration.ofSeconds(60), AccessTokens.fromSecretsKey(SecretCipher.generateKey(), Clock.systemUTC()));
  }

  /** An app installed through the first instance, once the second one serves it too. */
  private String installedOnBoth() {
    HttpResponse<Buffer> created = post(first, account, specExample()).await();
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String id = json(created).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> second.store().find(id).isPresent());
    return id;
  }

  /**
   * Both views, and the installation's last record in the topic (as a reader that starts after compaction sees it),
   * satisfy {@code expectation} and are the same.
   */
  private static void awaitAgreement(String id, Consumer<Optional<StoredInstallation>> expectation) {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      Optional<StoredInstallation> view = first.store().stored(id);
      expectation.accept(view);
      assertThat(second.store().stored(id)).isEqualTo(view);
      assertThat(lastRecord(id)).isEqualTo(view);
    });
  }

  private static Optional<StoredInstallation> lastRecord(String id) {
    List<ConsumerRecord<String, byte[]>> records = InstallationTopics.records(topic).stream()
        .filter(r -> r.key().equals(id)).toList();
    byte[] value = records.get(records.size() - 1).value();
    return Optional.ofNullable(value).map(StoredInstallation::fromJson);
  }

  /** Sends both requests before waiting for either, so the two instances handle them at the same time. */
  @SafeVarargs
  private static List<HttpResponse<Buffer>> together(Future<HttpResponse<Buffer>>... requests) {
    Future.join(List.of(requests)).await();
    return List.of(requests).stream().map(Future::result).toList();
  }

  private static List<Integer> statuses(List<HttpResponse<Buffer>> answers) {
    return answers.stream().map(HttpResponse::statusCode).toList();
  }

  private Future<HttpResponse<Buffer>> put(ApiFixture instance, String id, String ifMatch, ObjectNode body) {
    HttpRequest<Buffer> request = request(instance, HttpMethod.PUT, base(account) + "/" + id)
        .putHeader("content-type", "application/json");
    if (ifMatch != null) {
      request.putHeader("If-Match", ifMatch);
    }
    return request.sendBuffer(Buffer.buffer(body.toString()));
  }

  private Future<HttpResponse<Buffer>> delete(ApiFixture instance, String id, String ifMatch) {
    HttpRequest<Buffer> request = request(instance, HttpMethod.DELETE, base(account) + "/" + id);
    if (ifMatch != null) {
      request.putHeader("If-Match", ifMatch);
    }
    return request.send();
  }

  private static Future<HttpResponse<Buffer>> post(ApiFixture instance, String account, ObjectNode body) {
    return request(instance, HttpMethod.POST, base(account)).putHeader("content-type", "application/json")
        .sendBuffer(Buffer.buffer(body.toString()));
  }

  private static HttpRequest<Buffer> request(ApiFixture instance, HttpMethod method, String uri) {
    return instance.client().request(method, instance.server().actualPort(), "localhost", uri)
        .putHeader("Authorization", "Bearer " + TOKEN);
  }

  private static String base(String account) {
    return "/api/account/" + account + "/configuration/app-install/installations";
  }

  private static JsonNode json(HttpResponse<Buffer> response) {
    try {
      return MAPPER.readTree(response.bodyAsString());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + response.bodyAsString(), e);
    }
  }
}
