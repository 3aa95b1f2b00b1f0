package dev.webhooks.dispatcher.install;

import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.util.Arrays;
import java.util.Optional;

/**
 * Optimistic concurrency: a change that names the revision it was made from ({@code If-Match: "3"}, or the modelled
 * API's {@code ac-revision: 3}) applies only while that is still the current revision.
 */
final class Revisions {
  private Revisions() {}

  /** Succeeds when the request names no revision, {@code *}, or the current one; else 412. */
  static Future<Void> expected(RoutingContext ctx, long current) {
    Optional<String> named = Optional.ofNullable(ctx.request().getHeader("If-Match"))
        .or(() -> Optional.ofNullable(ctx.request().getHeader("ac-revision")))
        .map(String::trim)
        .filter(v -> !v.isEmpty());
    if (named.isEmpty() || matches(named.get(), Long.toString(current))) {
      return Future.succeededFuture();
    }
    return Future.failedFuture(new ApiException(412, "precondition-failed", "the installation is at revision "
        + current + ", not " + named.get() + "; read it again and apply your change to that"));
  }

  /** An entity-tag list ({@code "3"}, {@code W/"3"}, {@code 3}, {@code "2", "3"}) or {@code *}. */
  static boolean matches(String header, String revision) {
    return Arrays.stream(header.split(","))
        .map(String::trim)
        .map(tag -> tag.startsWith("W/") ? tag.substring(2) : tag)
        .map(tag -> tag.length() >= 2 && tag.startsWith("\"") && tag.endsWith("\"")
            ? tag.substring(1, tag.length() - 1)
            : tag)
        .anyMatch(tag -> tag.equals("*") || tag.equals(revision));
  }
}
