package dev.webhooks.dispatcher.delivery;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.install.Header;
import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.Webhook;
import dev.webhooks.dispatcher.install.WebhookKeys;
import dev.webhooks.dispatcher.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Deliveries and delivery settings for tests. */
final class Deliveries {
  static final String ACCOUNT = "le12345678";
  static final String CLIENT_ID = "3d6b6e3a-7f0e-4b1e-9a1c-client";
  static final String SECRET = "s3cr3t-current";
  static final String OLD_SECRET = "s3cr3t-previous";
  /** Non-ASCII text and spacing a re-serializer would change: the bytes on the wire must be exactly these. */
  static final String BODY =
      "{\"kind\":\"notification\",\"body\":{\"changes\":[{\"sequence\":39,\"event\":{\"type\":\"ContentEvent\","
          + "\"message\":\"héllo  ✓ \\u00e9\",\"contentType\":\"text/plain\"}}]},\"type\":\"ms.MessagingEventNotification\"}";

  private Deliveries() {}

  static Delivery to(String endpoint, int maxRetries, Header... headers) {
    Webhook webhook = new Webhook(endpoint, maxRetries, List.of(headers));
    Installation app =
        new Installation(
            CLIENT_ID, ACCOUNT, true, Map.of(WebhookKeys.CONTENT, webhook), List.of(SECRET, OLD_SECRET),
            JsonNodeFactory.instance.objectNode(), 1_700_000_000L, "1");
    return new Delivery(
        "wh_messaging-events_3_1042_abc", app, WebhookKeys.CONTENT, webhook,
        Bodies.of(BODY.getBytes(StandardCharsets.UTF_8)), new Source("messaging-events", 3, 1042, 1_700_000_000_000L));
  }

  /** Test settings: the test CA trusted, private networks allowed unless a test says otherwise. */
  static Config config(String... overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("DELIVERY_TRUSTED_CA_PEM", TestCertificates.shared().caPem().toString());
    env.put("DELIVERY_ALLOW_PRIVATE_NETWORKS", "true");
    for (int i = 0; i < overrides.length; i += 2) {
      env.put(overrides[i], overrides[i + 1]);
    }
    return Config.fromEnv(env);
  }
}
