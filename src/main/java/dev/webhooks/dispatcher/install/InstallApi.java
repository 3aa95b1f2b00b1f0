package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.webhooks.dispatcher.signing.Signer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The App Install REST API (DESIGN 1.4) as a router: install, list, read, update (enable, disable) and delete an
 * account's apps, and rotate an app's client secret. Every call needs
 * the admin bearer token. Handlers are flat future chains that fail with {@link ApiException}; one failure handler
 * renders every error body.
 */
public final class InstallApi {
  public static final String BASE = "/api/account/:accountId/configuration/app-install/installations";
  /** Every path of this API, so that its token check and body limit apply to nothing else on the server. */
  private static final String ANY_PATH = "/api/account/[^/]+/configuration/app-install/installations(/.*)?";
  /** DESIGN 1.4: a manifest is a few KiB; anything bigger is a mistake or an attack. */
  static final int BODY_LIMIT = 64 * 1024;
  /** The calls an app's own access token may make: read its installation, rotate its secret. */
  private static final Pattern APP_CALL =
      Pattern.compile("/api/account/([^/]+)/configuration/app-install/installations/([^/]+)(/secret)?");
  private static final Pattern COLLECTION =
      Pattern.compile("/api/account/[^/]+/configuration/app-install/installations");
  /** The OpenAPI 3 document of this API, served without a token: it describes the API and holds no data. */
  public static final String OPENAPI_PATH = "/openapi.yaml";
  private static final ObjectMapper MAPPER = ManifestBodies.MAPPER;
  /**
   * How many times a change is tried when nothing was written: another write of the installation came first, or two
   * instances writing it at once fenced each other's transactions. Only a change without {@code If-Match} on an
   * installation under constant change runs out (503).
   */
  private static final int WRITE_ATTEMPTS = 8;
  /**
   * The longest pause before the second try; it doubles for each next one, and each pause is random up to it, so
   * that two instances that fenced each other soon part (at most about 3 s of pauses in all).
   */
  private static final long FIRST_PAUSE_MS = 25;

  private final Vertx vertx;
  private final InstallationStore store;
  private final ManifestBodies bodies;
  private final SecretCipher cipher;
  private final byte[] tokenDigest;
  private final Clock clock;
  private final Duration rotationGrace;
  private final AccessTokens tokens;
  private final WriteQueue writes = new WriteQueue();
  private final Buffer openApi = OpenApiDocument.load();

  /**
   * @param logoCheck the 70x70 check of an https {@code logo_uri}
   * @param rotationGrace how long a rotated-out client secret still signs ({@code SECRET_ROTATION_GRACE_S})
   * @param tokens issues and checks the apps' OAuth access tokens
   */
  public InstallApi(Vertx vertx, InstallationStore store, EndpointCheck endpointCheck, LogoCheck logoCheck,
      SecretCipher cipher, String adminToken, Clock clock, Duration rotationGrace, AccessTokens tokens) {
    this.vertx = vertx;
    this.store = store;
    this.bodies = new ManifestBodies(endpointCheck, logoCheck);
    this.cipher = cipher;
    if (adminToken == null || adminToken.isBlank()) {
      throw new IllegalArgumentException("the admin token must not be empty");
    }
    this.tokenDigest = sha256(adminToken);
    this.clock = clock;
    this.rotationGrace = rotationGrace;
    this.tokens = tokens;
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
    router.put(BASE + "/:id").handler(this::update);
    router.post(BASE + "/:id").handler(this::overridden);
    router.delete(BASE + "/:id").handler(this::delete);
    router.post(BASE + "/:id/secret").handler(this::rotate);
    router.get(OPENAPI_PATH).handler(this::openApi);
    TokenEndpoint token = new TokenEndpoint(store, tokens);
    router.post(TokenEndpoint.PATH).handler(BodyHandler.create(false).setBodyLimit(TokenEndpoint.FORM_LIMIT))
        .handler(token).failureHandler(token::failed);
    FailureRenderer renderer = new FailureRenderer();
    router.route().failureHandler(renderer);
    // A path or method no route takes gets the API's JSON error too, not Vert.x's HTML page; still no token check.
    router.errorHandler(404, renderer);
    router.errorHandler(405, renderer);
    // a path Vert.x cannot decode fails before any route: a JSON 400 too, not a text one and a logged stack trace
    router.errorHandler(400, ctx -> renderer.render(ctx, FailureRenderer.UNREADABLE));
    return router;
  }

  /**
   * The methods a path of this API takes, for the {@code Allow} header a 405 must carry (RFC 9110, 15.5.6); empty for
   * a path that is not the API's. A POST on an installation is only a PUT under {@code X-HTTP-Method-Override}.
   */
  static String allowedMethods(String normalizedPath) {
    // routes take one trailing slash too
    String path = normalizedPath.length() > 1 && normalizedPath.endsWith("/")
        ? normalizedPath.substring(0, normalizedPath.length() - 1)
        : normalizedPath;
    if (COLLECTION.matcher(path).matches()) {
      return "GET, POST";
    }
    Matcher call = APP_CALL.matcher(path);
    if (call.matches()) {
      return call.group(3) == null ? "GET, PUT, DELETE" : "POST";
    }
    return switch (path) {
      case OPENAPI_PATH -> "GET";
      case TokenEndpoint.PATH -> "POST";
      default -> "";
    };
  }

  /**
   * The admin token may do everything. An app's OAuth access token may read its own installation and rotate its own
   * secret, nothing else (403), and only while the app is enabled and the secret it was issued for is the current one.
   * Anything else is 401 with no detail.
   */
  private void authenticate(RoutingContext ctx) {
    String header = Optional.ofNullable(ctx.request().getHeader(HttpHeaders.AUTHORIZATION)).orElse("");
    String token = header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
    // Digests have one length, so the comparison's time says nothing about the token, not even its length.
    if (!token.isEmpty() && MessageDigest.isEqual(tokenDigest, sha256(token))) {
      ctx.next();
      return;
    }
    Optional<AccessTokens.Grant> grant = (token.isEmpty() ? Optional.<AccessTokens.Grant>empty() : tokens.verify(token))
        .filter(this::stillHolds);
    if (grant.isEmpty()) {
      ctx.fail(new ApiException(401, "unauthorized", "a valid bearer token is required"));
    } else if (appMayCall(ctx, grant.get())) {
      ctx.next();
    } else {
      ctx.fail(new ApiException(403, "forbidden",
          "an app's access token may only read its own installation and rotate its own secret"));
    }
  }

  /** A token of an app that was disabled, uninstalled, or whose secret was rotated since, grants nothing. */
  private boolean stillHolds(AccessTokens.Grant grant) {
    return store.find(grant.clientId())
        .filter(app -> app.enabled() && tokens.issuedFor(grant, app.currentSecret()))
        .isPresent();
  }

  private static boolean appMayCall(RoutingContext ctx, AccessTokens.Grant grant) {
    // The raw path, decoded once as path parameters are: extra or dot segments simply do not match.
    Matcher call = APP_CALL.matcher(ctx.request().path());
    if (!call.matches()) {
      return false;
    }
    boolean own = decode(call.group(1)).equals(grant.accountId()) && decode(call.group(2)).equals(grant.clientId());
    boolean rotation = call.group(3) != null;
    HttpMethod method = ctx.request().method();
    return own && (rotation ? method == HttpMethod.POST : method == HttpMethod.GET);
  }

  private static String decode(String segment) {
    return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private void install(RoutingContext ctx) {
    String accountId = ctx.pathParam("accountId");
    ManifestBodies.json(ctx)
        .compose(body -> bodies.checked(body, Credentials.violations(body)))
        .compose(checked -> {
          Draft draft = draft(accountId, checked.body());
          return writes.run(draft.id(), () -> untilWritten(() -> claimClientId(draft)
                  .compose(claimed -> store.write(claimed.id(), Optional.empty(), claimed.record()))))
              .onSuccess(installation -> respond(ctx, 201, installation, checked.warnings()));
        })
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

  /**
   * A full update: the body is the whole manifest (enabled true/false disables or enables the app). With
   * {@code If-Match} (or {@code ac-revision}) it applies only to that revision, else 412.
   */
  private void update(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    writes.run(id, () -> storedOfAccount(ctx)
            .compose(found -> ManifestBodies.json(ctx)
                .compose(body -> bodies.checked(body, ManifestBodies.sameIdentity(body, id,
                    store.find(id).map(Installation::signingSecrets).orElse(List.of())))))
            .compose(checked -> untilWritten(() -> storedOfAccount(ctx)
                    .compose(current -> Revisions.expected(ctx, current.revision())
                        .compose(ok -> store.write(id, Optional.of(current),
                            current.revise(Manifest.canonical(checked.body()), now())))))
                .onSuccess(installation -> respond(ctx, 200, installation, checked.warnings()))))
        .onFailure(ctx::fail);
  }

  /** {@code X-HTTP-Method-Override: PUT} on a POST is an update, as the modelled API allows; nothing else is. */
  private void overridden(RoutingContext ctx) {
    String override = Optional.ofNullable(ctx.request().getHeader("X-HTTP-Method-Override")).orElse("").trim();
    if (override.equalsIgnoreCase("PUT")) {
      update(ctx);
    } else {
      ctx.fail(new ApiException(405, "method-not-allowed",
          "POST on an installation needs X-HTTP-Method-Override: PUT; use PUT, GET or DELETE"));
    }
  }

  private void delete(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    writes.run(id, () -> untilWritten(() -> storedOfAccount(ctx)
            .compose(current -> Revisions.expected(ctx, current.revision())
                .compose(ok -> store.delete(id, current))
                .map(deleted -> deleted ? Optional.of(current) : Optional.<StoredInstallation>empty()))))
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }

  /**
   * Issues a new client secret and answers it once, in the installation's {@code client_secret}. The previous one
   * still signs {@code webhook-signature} for the grace period, then is forgotten. A rotation that names the revision
   * it was made from is made only from that one: of two such rotations at once, the second is answered 412 rather than
   * with a secret that is already not the current one.
   */
  private void rotate(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    writes.run(id, () -> untilWritten(() -> storedOfAccount(ctx)
            .compose(current -> Revisions.expected(ctx, current.revision())
                .compose(ok -> store.write(id, Optional.of(current), current.rotate(
                    StoredInstallation.Secret.seal(Credentials.newSecret(), id, cipher, now()), now(),
                    rotationGrace.toSeconds()))))))
        .onSuccess(installation -> respond(ctx, 200, installation))
        .onFailure(ctx::fail);
  }

  private void openApi(RoutingContext ctx) {
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/yaml; charset=utf-8").end(openApi);
  }

  private long now() {
    return clock.instant().getEpochSecond();
  }

  /**
   * Runs {@code attempt} (read the installation, check the request against it, write what follows from it) until it
   * writes or refuses. A write comes back empty when another write of the installation came first, through any
   * instance, or fenced it; the next attempt reads again, and so answers 412, 404 or 409, or builds on what it finds.
   */
  private <T> Future<T> untilWritten(Supplier<Future<Optional<T>>> attempt) {
    return untilWritten(attempt, WRITE_ATTEMPTS);
  }

  private <T> Future<T> untilWritten(Supplier<Future<Optional<T>>> attempt, int attemptsLeft) {
    return attempt.get().compose(written -> {
      if (written.isPresent()) {
        return Future.succeededFuture(written.get());
      }
      if (attemptsLeft == 1) {
        return Future.failedFuture(new ApiException(503, "busy", "other writes of the installation came first, or in"
            + " the way, in each of " + WRITE_ATTEMPTS + " attempts to change it; try again"));
      }
      long longest = FIRST_PAUSE_MS << (WRITE_ATTEMPTS - attemptsLeft);
      return vertx.timer(1 + ThreadLocalRandom.current().nextLong(longest), TimeUnit.MILLISECONDS)
          .compose(paused -> untilWritten(attempt, attemptsLeft - 1));
    });
  }

  /** What to write: imported credentials, or a new random client id and secret. */
  private Draft draft(String accountId, ObjectNode body) {
    Credentials credentials = Credentials.of(body);
    String id = credentials.clientId();
    return new Draft(id, StoredInstallation.create(id, accountId, Manifest.canonical(body), credentials.clientSecret(),
        cipher, now()));
  }

  /** 409 when the client id is installed already (through any instance: the write is made only if it is not). */
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

  /** As {@link #ofAccount}, the record as stored, to build the next revision from. */
  private Future<StoredInstallation> storedOfAccount(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return store.stored(id)
        .filter(i -> i.accountId().equals(ctx.pathParam("accountId")))
        .map(Future::succeededFuture)
        .orElseGet(() -> Future.failedFuture(ApiException.notFound("installation " + id)));
  }

  private record Draft(String id, StoredInstallation record) {}

  private static void respond(RoutingContext ctx, int status, Installation installation) {
    respond(ctx, status, installation, List.of());
  }

  /** With {@code "warnings":[{"path","message"}]} when something could not be checked (an unreachable logo). */
  private static void respond(RoutingContext ctx, int status, Installation installation, List<Violation> warnings) {
    ctx.response().putHeader("ac-revision", installation.revision());
    ObjectNode body = representation(installation);
    warnings.forEach(w -> body.withArray("warnings").addObject().put("path", w.path()).put("message", w.message()));
    send(ctx, status, body);
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
