package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Manifests for tests: the spec's own example, and small ones built around one webhook. */
final class Manifests {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private Manifests() {}

  /** The example printed in the spec (spec/app-manifest-schema.txt), unchanged. */
  static ObjectNode specExample() {
    try (InputStream in = Manifests.class.getResourceAsStream("spec-example.json")) {
      return (ObjectNode) MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ObjectNode withWebhook(String key, String endpoint) {
    ObjectNode manifest = MAPPER.createObjectNode().put("client_name", "Test app");
    manifest.putObject("capabilities").putObject("webhooks").putObject(key).put("endpoint", endpoint);
    return manifest;
  }

  static ObjectNode webhook(ObjectNode manifest, String key) {
    return (ObjectNode) manifest.get("capabilities").get("webhooks").get(key);
  }
}
