package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.webhooks.dispatcher.signing.Signer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The App Install REST API (DESIGN 1.4) as a router: install, list, read and delete an account's apps. Every call needs
 * the admin bearer token. Handlers are flat future chains that fail with {@link ApiException}; one failure handler
 * renders every error body.
 */
public final class InstallApi {
  public static final String BASE = "/api/account/:accountId/configuration/app-install/installations";
  /** Every path of this API, so that its token check and body limit apply to nothing else on the server. */
  private static final String ANY_PATH = "/api/account/[^/]+/configuration/app-install/installations(/.*)?";
  /** DESIGN 1.4: a manifest is a few KiB; anything bigger is a mistake or an attack. */
  static final int BODY_LIMIT = 64 * 1024;
  private static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

  private final Vertx vertx;
  private final InstallationStore store;
  private final ManifestValidator validator;
  private final EndpointCheck endpointCheck;
  private final SecretCipher cipher;
  private final byte[] tokenDigest;
  private final Clock clock;

  public InstallApi(Vertx vertx, InstallationStore store, EndpointCheck endpointCheck, SecretCipher cipher,
      String adminToken, Clock clock) {
    this.vertx = vertx;
    this.store = store;
    this.validator = new ManifestValidator();
    this.endpointCheck = endpointCheck;
    this.cipher = cipher;
    if (adminToken == null || adminToken.isBlank()) {
      throw new IllegalArgumentException("the admin token must not be empty");
    }
    this.tokenDigest = sha256(adminToken);
    this.clock = clock;
  }

  /**
   * The API's routes under their full paths: serve it as the HTTP server's request handler, or mount it with
   * {@code route("/*").subRouter(router)}.
   */
  public Router router() {
    Router router = Router.router(vertx);
    router.routeWithRegex(ANY_PATH).handler(this::authenticate);
    router.routeWithRegex(ANY_PATH).handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));
    router.post(BASE).handler(this::install);
    router.get(BASE).handler(this::list);
    router.get(BASE + "/:id").handler(this::read);
    router.delete(BASE + "/:id").handler(this::delete);
    router.route().failureHandler(new FailureRenderer());
    return router;
  }

  private void authenticate(RoutingContext ctx) {
    String header = Optional.ofNullable(ctx.request().getHeader(HttpHeaders.AUTHORIZATION)).orElse("");
    boolean bearer = header.regionMatches(true, 0, "Bearer ", 0, 7);
    // Digests have one length, so the comparison's time says nothing about the token, not even its length.
    if (bearer && MessageDigest.isEqual(tokenDigest, sha256(header.substring(7).trim()))) {
      ctx.next();
    } else {
      ctx.fail(new ApiException(401, "unauthorized", "a valid bearer token is required"));
    }
  }

  private void install(RoutingContext ctx) {
    String accountId = ctx.pathParam("accountId");
    manifestOf(ctx)
        .compose(this::checked)
        .map(body -> draft(accountId, body))
        .compose(this::claimClientId)
        .compose(draft -> store.write(draft.id(), draft.record()))
        .onSuccess(installation -> respond(ctx, 201, installation))
        .onFailure(ctx::fail);
  }

  private void list(RoutingContext ctx) {
    ArrayNode array = MAPPER.createArrayNode();
    store.installationsOf(ctx.pathParam("accountId")).forEach(i -> array.add(representation(i)));
    send(ctx, 200, array);
  }

  private void read(RoutingContext ctx) {
    ofAccount(ctx)
        .onSuccess(installation -> respond(ctx, 200, installation))
        .onFailure(ctx::fail);
  }

  private void delete(RoutingContext ctx) {
    ofAccount(ctx)
        .compose(installation -> store.delete(installation.id()))
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  /** The body as a JSON tree: 415 unless it is declared JSON, 400 when it does not parse. */
  private Future<JsonNode> manifestOf(RoutingContext ctx) {
    String type = Optional.ofNullable(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE)).orElse("")
        .toLowerCase(Locale.ROOT);
    String mediaType = type.split(";", 2)[0].trim();
    if (!mediaType.equals("application/json") && !mediaType.endsWith("+json")) {
      return Future.failedFuture(new ApiException(415, "unsupported-media-type",
          "the body must be JSON, sent with Content-Type: application/json"));
    }
    try {
      Buffer body = ctx.body().buffer();
      JsonNode json = body == null ? null : MAPPER.readTree(body.getBytes());
      if (json == null || json.isMissingNode()) {
        return Future.failedFuture(ApiException.invalid(List.of(new Violation(ManifestValidator.ROOT,
            "the body is empty; send the app manifest"))));
      }
      return Future.succeededFuture(json);
    } catch (JsonProcessingException e) {
      return Future.failedFuture(ApiException.invalid(List.of(new Violation(ManifestValidator.ROOT,
          "is not valid JSON: " + e.getOriginalMessage()))));
    } catch (IOException e) {
      return Future.failedFuture(e);
    }
  }

  /** Every violation at once: the manifest's, the imported credentials', and each endpoint the check refuses. */
  private Future<ObjectNode> checked(JsonNode body) {
    List<Violation> violations = new ArrayList<>(validator.validate(body));
    if (!body.isObject()) {
      return Future.failedFuture(ApiException.invalid(violations));
    }
    violations.addAll(Credentials.violations(body));
    List<Future<Optional<Violation>>> refusals = new ArrayList<>();
    for (Map.Entry<String, String> e : Manifest.endpointsByPath(body).entrySet()) {
      if (violations.stream().noneMatch(v -> v.path().equals(e.getKey()))) {
        refusals.add(endpointCheck.refusal(e.getValue()).map(r -> r.map(message -> new Violation(e.getKey(), message))));
      }
    }
    return Future.all(refusals).compose(all -> {
      refusals.forEach(f -> f.result().ifPresent(violations::add));
      return violations.isEmpty()
          ? Future.succeededFuture((ObjectNode) body)
          : Future.failedFuture(ApiException.invalid(violations));
    });
  }

  /** What to write: imported credentials, or a new random client id and secret. */
  private Draft draft(String accountId, ObjectNode body) {
    Credentials credentials = Credentials.of(body);
    String id = credentials.clientId();
    long now = clock.instant().getEpochSecond();
    return new Draft(id, StoredInstallation.create(id, accountId, Manifest.canonical(body), credentials.clientSecret(),
        cipher, now));
  }

  /** 409 when the client id is installed already. Two instances importing one id at the same moment both win. */
  private Future<Draft> claimClientId(Draft draft) {
    return store.find(draft.id()).isPresent()
        ? Future.failedFuture(new ApiException(409, "conflict", "client id " + draft.id() + " is already installed"))
        : Future.succeededFuture(draft);
  }

  /** 404 for a missing installation and for one of another account alike. */
  private Future<Installation> ofAccount(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return store.find(id)
        .filter(i -> i.accountId().equals(ctx.pathParam("accountId")))
        .map(Future::succeededFuture)
        .orElseGet(() -> Future.failedFuture(ApiException.notFound("installation " + id)));
  }

  private record Draft(String id, StoredInstallation record) {}

  private static void respond(RoutingContext ctx, int status, Installation installation) {
    ctx.response().putHeader("ac-revision", installation.revision());
    send(ctx, status, representation(installation));
  }

  /** Every manifest field, plus the identity and credentials the server keeps apart. */
  static ObjectNode representation(Installation installation) {
    ObjectNode json = MAPPER.createObjectNode()
        .put("id", installation.id())
        .put("client_id", installation.clientId());
    json.setAll(installation.manifest());
    json.put("enabled", installation.enabled())
        .put("client_secret", installation.currentSecret())
        .put("webhook_secret", Signer.webhookSecret(installation.currentSecret()))
        .put("client_id_issued_at", installation.issuedAt());
    return json;
  }

  static void send(RoutingContext ctx, int status, JsonNode body) {
    try {
      ctx.response()
          .setStatusCode(status)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(Buffer.buffer(MAPPER.writeValueAsBytes(body)));
    } catch (JsonProcessingException e) {
      ctx.fail(e);
    }
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }
}
