package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's one failure handler: renders an {@link ApiException}, or a failure of Vert.x Web itself (413 from the body
 * limit; 404 and 405 when no route matches, as the router's error handler), as {@code {"errors":[...]}}; anything else
 * is a bug, logged and answered 500. A 401 names the Bearer scheme in {@code WWW-Authenticate}, a 405 the resource's
 * methods in {@code Allow}.
 */
final class FailureRenderer implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(FailureRenderer.class);

  /** What a request gets whose path cannot even be decoded (a bad percent-escape): Vert.x fails it before any route. */
  static final ApiException UNREADABLE = new ApiException(400, "bad-request", "the request cannot be read");

  @Override
  public void handle(RoutingContext ctx) {
    render(ctx, asApiException(ctx));
  }

  /** Answers {@code error} as the API's JSON. */
  void render(RoutingContext ctx, ApiException error) {
    if (ctx.response().headWritten()) {
      LOG.warn("Failure after the response started: {} {}", ctx.request().method(), ctx.request().path(),
          ctx.failure());
      return;
    }
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    ArrayNode errors = body.putArray("errors");
    if (error.violations().isEmpty()) {
      errors.addObject().put("code", error.code()).put("message", error.getMessage());
    } else {
      error.violations().forEach(v -> errors.addObject().put("path", v.path()).put("message", v.message()));
    }
    ctx.response().headers().remove("ac-revision");
    if (error.status() == 401) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer"); // RFC 6750: the scheme the API asks for
    }
    String allowed = error.status() == 405 ? InstallApi.allowedMethods(ctx.normalizedPath()) : "";
    if (!allowed.isEmpty()) {
      ctx.response().putHeader("Allow", allowed); // RFC 9110: a 405 names what the resource takes
    }
    InstallApi.send(ctx, error.status(), body);
  }

  private static ApiException asApiException(RoutingContext ctx) {
    if (ctx.failure() instanceof ApiException api) {
      return api;
    }
    return switch (ctx.statusCode()) {
      case 413 -> new ApiException(413, "too-large", "the body must be at most " + InstallApi.BODY_LIMIT / 1024
          + " KiB");
      case 404 -> new ApiException(404, "not-found", "no such resource");
      case 405 -> new ApiException(405, "method-not-allowed", "this method is not allowed on this resource");
      case 400 -> UNREADABLE;
      default -> {
        LOG.error("Install API call failed: {} {}", ctx.request().method(), ctx.request().path(), ctx.failure());
        yield new ApiException(500, "internal", "the request failed; it has been logged");
      }
    };
  }
}
