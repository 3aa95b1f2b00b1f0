package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * {@code POST /oauth/token}: the client credentials grant (RFC 6749 section 4.4). The app authenticates with its
 * client id and secret (HTTP Basic, or {@code client_id}/{@code client_secret} form fields) and gets a bearer token
 * for its own installation and the scopes its manifest grants. Errors are RFC 6749 section 5.2 bodies.
 */
final class TokenEndpoint implements Handler<RoutingContext> {
  static final String PATH = "/oauth/token";
  /** A token request is a few short form fields. */
  static final int FORM_LIMIT = 8 * 1024;

  private final InstallationView installations;
  private final AccessTokens tokens;

  TokenEndpoint(InstallationView installations, AccessTokens tokens) {
    this.installations = installations;
    this.tokens = tokens;
  }

  /** A client's credentials, and whether they came by HTTP Basic (which makes a 401 name the Basic scheme). */
  private record Client(String id, String secret, boolean basic) {}

  @Override
  public void handle(RoutingContext ctx) {
    String type = Optional.ofNullable(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE)).orElse("")
        .split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (!type.equals("application/x-www-form-urlencoded")) {
      error(ctx, 400, "invalid_request", "send the request as application/x-www-form-urlencoded", false);
      return;
    }
    MultiMap form = ctx.request().formAttributes();
    String grantType = form.get("grant_type");
    if (grantType == null) {
      error(ctx, 400, "invalid_request", "grant_type is required", false);
      return;
    }
    if (!grantType.equals("client_credentials")) {
      error(ctx, 400, "unsupported_grant_type", "only client_credentials is supported", false);
      return;
    }
    Optional<Client> client = client(ctx, form);
    if (client.isEmpty()) {
      error(ctx, 400, "invalid_request",
          "give the client credentials once: HTTP Basic, or client_id and client_secret form fields", false);
      return;
    }
    Client c = client.get();
    Optional<Installation> app = installations.find(c.id()).filter(i -> knows(i, c.secret()));
    if (app.isEmpty()) {
      error(ctx, 401, "invalid_client", "unknown client or wrong secret", c.basic());
      return;
    }
    Installation installation = app.get();
    if (!installation.enabled() || !allowsClientCredentials(installation)) {
      error(ctx, 400, "unauthorized_client", installation.enabled()
          ? "the app's manifest does not grant client_credentials" : "the app is disabled", false);
      return;
    }
    Set<String> granted = scopes(installation.manifest().path("scope").asText(""));
    Set<String> requested = form.contains("scope") ? scopes(form.get("scope")) : granted;
    if (!granted.containsAll(requested)) {
      error(ctx, 400, "invalid_scope", "the app's manifest grants only: " + String.join(" ", granted), false);
      return;
    }
    String scope = String.join(" ", requested);
    ObjectNode body = JsonNodeFactory.instance.objectNode()
        .put("access_token", tokens.issue(installation.id(), installation.accountId(), scope, c.secret()))
        .put("token_type", "Bearer")
        .put("expires_in", AccessTokens.LIFETIME.toSeconds());
    if (!scope.isEmpty()) {
      body.put("scope", scope);
    }
    noStore(ctx);
    InstallApi.send(ctx, 200, body);
  }

  /**
   * A request the body handler failed before {@link #handle}: a form over {@link #FORM_LIMIT} (413), or one it cannot
   * decode, such as a field over Vert.x's own limit of 8 KiB (400). A client of this endpoint gets an RFC 6749 error
   * body for these too. Anything else is left to the API's failure handler, which logs it.
   */
  void failed(RoutingContext ctx) {
    if (ctx.response().headWritten()) {
      return; // the 400 for a field too long went out first; the body limit then failed the request again
    }
    switch (ctx.statusCode()) {
      case 413 -> error(ctx, 413, "invalid_request", "the form must be at most " + FORM_LIMIT / 1024 + " KiB", false);
      case 400 -> error(ctx, 400, "invalid_request", "the form cannot be read", false);
      default -> ctx.next();
    }
  }

  /** RFC 6749 2.3.1: Basic with form-urlencoded id and secret, or both form fields; never both ways at once. */
  private static Optional<Client> client(RoutingContext ctx, MultiMap form) {
    String authorization = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    boolean inForm = form.contains("client_id") || form.contains("client_secret");
    if (authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      if (inForm) {
        return Optional.empty();
      }
      try {
        String decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()),
            StandardCharsets.UTF_8);
        int colon = decoded.indexOf(':');
        if (colon < 0) {
          return Optional.empty();
        }
        return Optional.of(new Client(URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8),
            URLDecoder.decode(decoded.substring(colon + 1), StandardCharsets.UTF_8), true));
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
    }
    String id = form.get("client_id");
    String secret = form.get("client_secret");
    return id == null || secret == null ? Optional.empty() : Optional.of(new Client(id, secret, false));
  }

  /**
   * Only the current secret: a rotation is what cuts off a leaked one, at once. (Its grace period is for receivers,
   * which may check a webhook against the previous secret until it ends.)
   */
  private static boolean knows(Installation installation, String secret) {
    return MessageDigest.isEqual(installation.currentSecret().getBytes(StandardCharsets.UTF_8),
        secret.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code grant_types} absent means the spec's one grant; present, it must name it. */
  private static boolean allowsClientCredentials(Installation installation) {
    var grants = installation.manifest().get("grant_types");
    if (grants == null) {
      return true;
    }
    for (var grant : grants) {
      if (grant.asText().equals("client_credentials")) {
        return true;
      }
    }
    return false;
  }

  private static Set<String> scopes(String text) {
    return new LinkedHashSet<>(Arrays.stream(text.trim().split(" +")).filter(s -> !s.isEmpty()).toList());
  }

  private static void error(RoutingContext ctx, int status, String code, String description, boolean basic) {
    if (basic) {
      ctx.response().putHeader("WWW-Authenticate", "Basic realm=\"oauth\"");
    }
    noStore(ctx);
    InstallApi.send(ctx, status, JsonNodeFactory.instance.objectNode().put("error", code)
        .put("error_description", description));
  }

  private static void noStore(RoutingContext ctx) {
    ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store").putHeader("Pragma", "no-cache");
  }
}
