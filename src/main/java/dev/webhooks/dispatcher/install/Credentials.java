package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.JsonNode;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * An app's OAuth client credentials: new random ones, or existing ones imported from the body ({@code client_id} and
 * {@code client_secret} together) when an app migrates from the modelled system.
 */
record Credentials(String clientId, String clientSecret) {
  /** Safe as a Kafka key, a URL path segment and a header value. */
  private static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._~-]{0,127}");
  private static final Pattern CLIENT_SECRET = Pattern.compile("[\\x21-\\x7E]{8,256}");
  /** 32 random bytes: as strong as the HMAC-SHA256 it keys. */
  private static final int SECRET_BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The imported credentials of a body that passed {@link #violations}, or new ones. */
  static Credentials of(JsonNode body) {
    if (body.hasNonNull("client_id")) {
      return new Credentials(body.get("client_id").textValue(), body.get("client_secret").textValue());
    }
    return new Credentials(UUID.randomUUID().toString(), newSecret());
  }

  /** A new random client secret (a rotation's, or a new installation's). */
  static String newSecret() {
    byte[] secret = new byte[SECRET_BYTES];
    RANDOM.nextBytes(secret);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
  }

  /** What is wrong with the credentials a body imports; empty when it imports none. */
  static List<Violation> violations(JsonNode body) {
    JsonNode id = body.get("client_id");
    JsonNode secret = body.get("client_secret");
    List<Violation> out = new ArrayList<>();
    if (id == null && secret == null) {
      return out;
    }
    if (id == null || secret == null) {
      out.add(new Violation(id == null ? "client_id" : "client_secret",
          "is required when importing credentials: give client_id and client_secret together"));
    }
    if (id != null && !(id.isTextual() && CLIENT_ID.matcher(id.textValue()).matches())) {
      out.add(new Violation("client_id", "must be 1 to 128 letters, digits, '.', '_', '~' or '-'"));
    }
    if (secret != null && !(secret.isTextual() && CLIENT_SECRET.matcher(secret.textValue()).matches())) {
      out.add(new Violation("client_secret", "must be 8 to 256 visible ASCII characters"));
    }
    return out;
  }
}
