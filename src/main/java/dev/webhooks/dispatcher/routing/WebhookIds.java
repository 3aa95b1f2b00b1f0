package dev.webhooks.dispatcher.routing;

import dev.webhooks.dispatcher.delivery.Source;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * Standard Webhooks ids derived from what identifies a delivery: the Kafka record (topic, partition, offset), the
 * app's client id and the webhook key. The same record redelivered after a crash therefore gets the same id, and
 * receivers can drop the duplicate. The id is {@code msg_} + 128 bits of SHA-256 in URL-safe Base64: no {@code .}.
 */
public final class WebhookIds {
  private static final int ID_BYTES = 16;
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(WebhookIds::sha256);

  private WebhookIds() {}

  public static String of(Source source, String clientId, String webhookKey) {
    String identity =
        source.topic() + '\n' + source.partition() + '\n' + source.offset() + '\n' + clientId + '\n' + webhookKey;
    byte[] digest = SHA256.get().digest(identity.getBytes(StandardCharsets.UTF_8));
    return "msg_" + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, ID_BYTES));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }
}
