package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A request's manifest: read as JSON (415 unless declared JSON, 400 when it does not parse), then checked whole
 * (the validator's rules, the credentials it imports, and each endpoint through the {@link EndpointCheck}).
 */
final class ManifestBodies {
  static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

  private final ManifestValidator validator = new ManifestValidator();
  private final EndpointCheck endpointCheck;

  ManifestBodies(EndpointCheck endpointCheck) {
    this.endpointCheck = endpointCheck;
  }

  /** The body as a JSON tree: 415 unless it is declared JSON, 400 when it does not parse. */
  static Future<JsonNode> json(RoutingContext ctx) {
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

  /**
   * Every violation at once: the manifest's, the credentials' ({@code extra}), and each endpoint the check refuses.
   */
  Future<ObjectNode> checked(JsonNode body, List<Violation> extra) {
    List<Violation> violations = new ArrayList<>(validator.validate(body));
    if (!body.isObject()) {
      return Future.failedFuture(ApiException.invalid(violations));
    }
    violations.addAll(extra);
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

  /** An update may repeat the installation's id (a read, changed, sent back) but never name another one. */
  static List<Violation> sameIdentity(JsonNode body, String id) {
    List<Violation> out = new ArrayList<>();
    for (String field : List.of("id", "client_id")) {
      JsonNode value = body.get(field);
      if (value != null && !(value.isTextual() && value.textValue().equals(id))) {
        out.add(new Violation(field, "must be this installation's id (" + id + ") or left out; it cannot change"));
      }
    }
    return out;
  }
}
