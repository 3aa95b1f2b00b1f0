package dev.webhooks.dispatcher.signing;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The two signatures every delivery carries. Both key the HMAC with the client secret's UTF-8 bytes.
 *
 * <ul>
 *   <li>{@code x-liveperson-signature}: {@code sha1=} + Base64(HMAC-SHA1(body)), as the modelled system signs.
 *   <li>{@code webhook-signature}: Standard Webhooks, {@code v1,} + Base64(HMAC-SHA256(id.timestamp.body)), one
 *       space-separated entry per valid secret during a rotation.
 * </ul>
 */
public final class Signer {
  private static final String SHA1 = "HmacSHA1";
  private static final String SHA256 = "HmacSHA256";
  private static final ThreadLocal<Mac> SHA1_MAC = ThreadLocal.withInitial(() -> mac(SHA1));
  private static final ThreadLocal<Mac> SHA256_MAC = ThreadLocal.withInitial(() -> mac(SHA256));
  private static final byte DOT = '.';

  private Signer() {}

  /** The {@code x-liveperson-signature} value for a body signed with one secret. */
  public static String liveperson(String secret, byte[] body) {
    return liveperson(secret, ByteBuffer.wrap(body));
  }

  /** As above, for the bytes from {@code body}'s position to its limit; leaves {@code body} as it was. */
  public static String liveperson(String secret, ByteBuffer body) {
    Mac mac = keyed(SHA1_MAC.get(), SHA1, secret);
    mac.update(body.duplicate());
    return "sha1=" + Base64.getEncoder().encodeToString(mac.doFinal());
  }

  /** The {@code webhook-signature} value: one {@code v1,<base64>} per secret, separated by spaces. */
  public static String standard(List<String> secrets, String webhookId, long timestampSeconds, byte[] body) {
    return standard(secrets, webhookId, timestampSeconds, ByteBuffer.wrap(body));
  }

  /** As above, for the bytes from {@code body}'s position to its limit; leaves {@code body} as it was. */
  public static String standard(List<String> secrets, String webhookId, long timestampSeconds, ByteBuffer body) {
    byte[] prefix = (webhookId + "." + timestampSeconds).getBytes(StandardCharsets.UTF_8);
    StringBuilder header = new StringBuilder();
    for (String secret : secrets) {
      Mac mac = keyed(SHA256_MAC.get(), SHA256, secret);
      mac.update(prefix);
      mac.update(DOT);
      mac.update(body.duplicate());
      if (header.length() > 0) {
        header.append(' ');
      }
      header.append("v1,").append(Base64.getEncoder().encodeToString(mac.doFinal()));
    }
    return header.toString();
  }

  /** The Standard Webhooks form of a client secret ({@code whsec_} + Base64 of its UTF-8 bytes). */
  public static String webhookSecret(String clientSecret) {
    return "whsec_" + Base64.getEncoder().encodeToString(clientSecret.getBytes(StandardCharsets.UTF_8));
  }

  private static Mac keyed(Mac mac, String algorithm, String secret) {
    try {
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), algorithm));
      return mac;
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException("unusable HMAC key", e);
    }
  }

  private static Mac mac(String algorithm) {
    try {
      return Mac.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " is required by every Java runtime", e);
    }
  }
}
