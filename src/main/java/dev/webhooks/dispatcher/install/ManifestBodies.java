package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
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
  /**
   * Strict: a duplicate key, or anything after the one JSON value, makes a body that is not JSON. Exact: decimals are
   * read as written (not as doubles, which turn 1e400 into Infinity), so unknown fields are kept as they are.
   */
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
          .build();

  private final ManifestValidator validator = new ManifestValidator();
  private final EndpointCheck endpointCheck;
  private final LogoCheck logoCheck;

  /** A manifest that may be stored, and what could not be checked about it (an unreachable logo). */
  record Checked(ObjectNode body, List<Violation> warnings) {}

  ManifestBodies(EndpointCheck endpointCheck, LogoCheck logoCheck) {
    this.endpointCheck = endpointCheck;
    this.logoCheck = logoCheck;
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
      return Future.failedFuture(ApiException.invalid(List.of(notJson(e))));
    } catch (IOException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * A body that is not one JSON value, said in words for whoever sent it rather than in Jackson's, with the line and
   * column where the parser stopped (the API's and validate-manifest's one message for it).
   */
  static Violation notJson(IOException e) {
    String reason = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
    if (reason != null && reason.startsWith("Trailing token")) {
      reason = "more follows the manifest's JSON value; send one JSON object";
    }
    JsonLocation at = e instanceof JsonProcessingException p ? p.getLocation() : null;
    String where = at == null || at.getLineNr() < 1 || at.getColumnNr() < 1
        ? ""
        : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    return new Violation(ManifestValidator.ROOT, "is not valid JSON" + where + ": " + reason);
  }

  /**
   * Every violation at once: the manifest's, the credentials' ({@code extra}), each endpoint the check refuses, and a
   * logo of the wrong size. The network checks run only on fields that passed the rules, and whose enclosing fields
   * did (an endpoint under a webhook key this service does not know is neither checked nor looked up).
   */
  Future<Checked> checked(JsonNode body, List<Violation> extra) {
    List<Violation> violations = new ArrayList<>(validator.validate(body));
    if (!body.isObject()) {
      return Future.failedFuture(ApiException.invalid(violations));
    }
    violations.addAll(extra);
    List<Future<Optional<Violation>>> refusals = new ArrayList<>();
    for (Map.Entry<String, String> e : Manifest.endpointsByPath(body).entrySet()) {
      if (violations.stream().noneMatch(v -> within(e.getKey(), v.path()))) {
        refusals.add(endpointCheck.refusal(e.getValue()).map(r -> r.map(message -> new Violation(e.getKey(), message))));
      }
    }
    JsonNode logo = body.get("logo_uri");
    Future<LogoCheck.Finding> logoFinding = logo != null && logo.isTextual()
        && violations.stream().noneMatch(v -> within("logo_uri", v.path()))
        ? logoCheck.check(logo.textValue())
        : Future.succeededFuture(new LogoCheck.Fits());
    List<Violation> warnings = new ArrayList<>();
    return Future.all(Future.all(refusals), logoFinding).compose(all -> {
      refusals.forEach(f -> f.result().ifPresent(violations::add));
      if (logoFinding.result() instanceof LogoCheck.WrongSize wrong) {
        violations.add(new Violation("logo_uri", wrong.message()));
      } else if (logoFinding.result() instanceof LogoCheck.NotChecked notChecked) {
        warnings.add(new Violation("logo_uri", notChecked.message()));
      }
      return violations.isEmpty()
          ? Future.succeededFuture(new Checked((ObjectNode) body, warnings))
          : Future.failedFuture(ApiException.invalid(violations));
    });
  }

  /** Whether {@code path} is the field at {@code violated} or inside it. */
  private static boolean within(String path, String violated) {
    return path.equals(violated) || path.startsWith(violated + ".") || path.startsWith(violated + "[");
  }

  /**
   * An update may repeat the installation's id and secret (a read, changed, sent back) but never change them: the id
   * is fixed, and a secret changes only by rotation.
   */
  static List<Violation> sameIdentity(JsonNode body, String id, List<String> secrets) {
    List<Violation> out = new ArrayList<>();
    for (String field : List.of("id", "client_id")) {
      JsonNode value = body.get(field);
      if (value != null && !(value.isTextual() && value.textValue().equals(id))) {
        out.add(new Violation(field, "must be this installation's id (" + id + ") or left out; it cannot change"));
      }
    }
    JsonNode secret = body.get("client_secret");
    if (secret != null && !(secret.isTextual() && secrets.contains(secret.textValue()))) {
      out.add(new Violation("client_secret", "cannot be changed by an update; rotate it with POST "
          + ".../installations/" + id + "/secret, or leave it out"));
    }
    return out;
  }
}
