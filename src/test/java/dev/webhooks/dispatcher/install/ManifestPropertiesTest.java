package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random JSON never crashes the checks: every document gets the API's 201 (valid, and then it can be stored and
 * routed) or a 400 with at least one violation that has a path and a message. The same code paths as the API's
 * install, without the broker: {@link ManifestValidator}, {@link Credentials}, {@link Manifest} and
 * {@link StoredInstallation}.
 */
class ManifestPropertiesTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** The spec's own names, so random documents reach deep into the rules instead of failing at the top. */
  private static final List<String> KEYS = List.of("client_name", "client_name#ja-JP", "description", "grant_types",
      "redirect_uris", "response_types", "scope", "logo_uri", "capabilities", "enabled", "webhooks", "engagement",
      "ms.MessagingEventNotification.ContentEvent", "cqm.ExConversationChangeNotification", "retry",
      "retention_time", "endpoint", "max_retries", "headers", "header_name", "header_value", "design_engagement",
      "entry_point", "visitor_behavior", "target_audience", "goal", "consumer_identity", "client_id",
      "client_secret", "x");
  private static final SecretCipher CIPHER = SecretCipher.fromBase64(SecretCipher.generateKey());

  private final ManifestValidator validator = new ManifestValidator();

  @Property(tries = 1000)
  void randomDocumentsAreInstalledOrRefusedWithPaths(@ForAll("documents") JsonNode document) {
    assertThat(status(document)).isIn(201, 400);
  }

  @Property(tries = 1000)
  void mutatedSpecExamplesAreInstalledOrRefusedWithPaths(@ForAll("mutatedExamples") JsonNode document) {
    assertThat(status(document)).isIn(201, 400);
  }

  /** What the API answers for a body, minus the broker: 201 only if the manifest can be stored and read back. */
  private int status(JsonNode body) {
    List<Violation> violations = new java.util.ArrayList<>(validator.validate(body));
    if (body.isObject()) {
      violations.addAll(Credentials.violations(body));
    }
    if (!violations.isEmpty()) {
      assertThat(violations).allSatisfy(v -> {
        assertThat(v.path()).isNotBlank();
        assertThat(v.message()).isNotBlank();
      });
      return 400;
    }
    ObjectNode manifest = Manifest.canonical((ObjectNode) body);
    Credentials credentials = Credentials.of(body);
    StoredInstallation stored =
        StoredInstallation.create(credentials.clientId(), "acc", manifest, credentials.clientSecret(), CIPHER, 1);
    Installation opened = StoredInstallation.fromJson(stored.toJson()).open(credentials.clientId(), CIPHER, 1);
    assertThat(opened.webhooks().keySet()).isSubsetOf(WebhookKeys.ALL);
    return 201;
  }

  @Provide
  Arbitrary<JsonNode> documents() {
    return json(4);
  }

  @Provide
  Arbitrary<JsonNode> mutatedExamples() {
    return mutated();
  }

  /** The spec's example with up to four fields replaced by random JSON. */
  static Arbitrary<JsonNode> mutated() {
    Arbitrary<String> pointers = Arbitraries.of("/client_name", "/description", "/scope", "/logo_uri",
        "/grant_types", "/response_types", "/redirect_uris", "/enabled", "/capabilities",
        "/capabilities/webhooks", "/capabilities/engagement",
        "/capabilities/webhooks/ms.MessagingEventNotification.ContentEvent",
        "/capabilities/webhooks/ms.MessagingEventNotification.ContentEvent/max_retries",
        "/capabilities/webhooks/ms.MessagingEventNotification.ContentEvent/endpoint",
        "/capabilities/webhooks/ms.MessagingEventNotification.ContentEvent/headers",
        "/capabilities/engagement/goal", "/capabilities/engagement/entry_point",
        "/capabilities/engagement/target_audience", "/capabilities/engagement/design_window");
    return net.jqwik.api.Combinators.combine(pointers.list().ofMaxSize(4), json(2).list().ofSize(4))
        .as((paths, values) -> {
          ObjectNode manifest = Manifests.specExample();
          for (int i = 0; i < paths.size(); i++) {
            String path = paths.get(i);
            int cut = path.lastIndexOf('/');
            JsonNode parent = manifest.at(path.substring(0, cut));
            if (parent instanceof ObjectNode object) {
              object.set(path.substring(cut + 1), values.get(i));
            }
          }
          return manifest;
        });
  }

  /** Random JSON up to {@code depth} levels, objects keyed mostly by the spec's own names. */
  static Arbitrary<JsonNode> json(int depth) {
    Arbitrary<JsonNode> leaf = Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(40).map(NODES::textNode),
        Arbitraries.of("https://a.example/h", "http://a.example", "/logo.png", "code", "client_credentials",
            "msg.consumer", "section", "auth", "X-Name", "Content-Type", "", "\r\n").map(NODES::textNode),
        Arbitraries.integers().between(-10, 300_000).map(NODES::numberNode),
        Arbitraries.doubles().map(NODES::numberNode),
        Arbitraries.of(true, false).map(NODES::booleanNode),
        Arbitraries.just(NODES.nullNode()));
    if (depth == 0) {
      return leaf;
    }
    Arbitrary<JsonNode> child = Arbitraries.lazy(() -> json(depth - 1));
    Arbitrary<JsonNode> array = child.list().ofMaxSize(4).map(items -> {
      ArrayNode node = NODES.arrayNode();
      items.forEach(node::add);
      return node;
    });
    Arbitrary<JsonNode> object = Arbitraries.maps(Arbitraries.oneOf(Arbitraries.of(KEYS),
        Arbitraries.strings().ofMaxLength(10)), child).ofMaxSize(5).map(fields -> {
          ObjectNode node = NODES.objectNode();
          fields.forEach(node::set);
          return node;
        });
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(1, leaf), net.jqwik.api.Tuple.of(1, array), net.jqwik.api.Tuple.of(3, object));
  }
}
