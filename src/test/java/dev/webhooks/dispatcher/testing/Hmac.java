package dev.webhooks.dispatcher.testing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Signatures recomputed the way a receiver would, with the JDK alone, to check the product's independently. */
public final class Hmac {
  private Hmac() {}

  /** Base64 of HMAC-{@code algorithm} ({@code HmacSHA1}, {@code HmacSHA256}) keyed by the UTF-8 secret. */
  public static String base64(String algorithm, String secret, byte[] message) {
    try {
      Mac mac = Mac.getInstance(algorithm);
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), algorithm));
      return Base64.getEncoder().encodeToString(mac.doFinal(message));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
