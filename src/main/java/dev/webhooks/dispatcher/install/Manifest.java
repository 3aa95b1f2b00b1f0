package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated manifest as it is stored: webhook keys canonical, credentials and server-set fields removed, every other
 * field kept as given (forward compatible). Reads the dispatcher's view of it ({@link #webhooks}, {@link #enabled}).
 */
public final class Manifest {
  /** {@code capabilities.webhooks.retry} holds retry settings, not a webhook. */
  static final String RETRY_KEY = "retry";
  /** Fields the server sets or keeps apart; a body's copies are never stored in the manifest. */
  static final Set<String> SERVER_FIELDS =
      Set.of("id", "client_id", "client_secret", "webhook_secret", "client_id_issued_at", "warnings");

  private Manifest() {}

  /** A copy of a valid manifest ready to store: alias keys renamed to canonical ones, server fields removed. */
  public static ObjectNode canonical(ObjectNode manifest) {
    ObjectNode copy = manifest.deepCopy();
    copy.remove(SERVER_FIELDS);
    JsonNode webhooks = copy.path("capabilities").path("webhooks");
    if (webhooks.isObject()) {
      ObjectNode renamed = copy.objectNode();
      for (Iterator<Map.Entry<String, JsonNode>> it = webhooks.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        renamed.set(WebhookKeys.canonical(e.getKey()).orElse(e.getKey()), e.getValue());
      }
      ((ObjectNode) copy.get("capabilities")).set("webhooks", renamed);
    }
    return copy;
  }

  /** Whether the app receives deliveries: {@code enabled}, true when absent. */
  public static boolean enabled(JsonNode manifest) {
    return manifest.path("enabled").asBoolean(true);
  }

  /** The webhooks of a valid manifest by canonical key; {@code max_retries} defaults to 0. */
  public static Map<String, Webhook> webhooks(JsonNode manifest) {
    Map<String, Webhook> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = manifest.path("capabilities").path("webhooks").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      WebhookKeys.canonical(e.getKey()).ifPresent(key -> out.put(key, webhook(e.getValue())));
    }
    return out;
  }

  /** Each webhook's endpoint by its path ({@code capabilities.webhooks['<key>'].endpoint}), where it is a string. */
  public static Map<String, String> endpointsByPath(JsonNode manifest) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = manifest.path("capabilities").path("webhooks").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode endpoint = e.getValue().path("endpoint");
      if (!e.getKey().equals(RETRY_KEY) && endpoint.isTextual()) {
        out.put(ManifestValidator.webhookPath(e.getKey()) + ".endpoint", endpoint.textValue());
      }
    }
    return out;
  }

  private static Webhook webhook(JsonNode json) {
    List<Header> headers = new ArrayList<>();
    for (JsonNode h : json.path("headers")) {
      headers.add(new Header(h.path("header_name").asText(), h.path("header_value").asText()));
    }
    return new Webhook(json.path("endpoint").asText(), json.path("max_retries").asInt(0), headers);
  }
}
