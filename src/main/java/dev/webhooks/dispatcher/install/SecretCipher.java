package dev.webhooks.dispatcher.install;

import dev.webhooks.dispatcher.config.ConfigException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts client secrets at rest with AES-256-GCM. The text form is {@code v1:<base64(iv || ciphertext+tag)>}; the
 * installation id is the associated data, so a secret copied onto another installation does not decrypt. Records keep
 * the {@link #keyId} beside the text, which tells a secret sealed with another key from one that is not this
 * installation's. Thread-safe.
 */
public final class SecretCipher {
  private static final String PREFIX = "v1:";
  private static final int KEY_BYTES = 32;
  /** 96-bit IVs are GCM's native size; random ones are safe far beyond the number of secrets we will ever store. */
  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private static final byte[] KEY_ID_LABEL = "webhook-dispatcher secrets key id".getBytes(StandardCharsets.US_ASCII);

  private final SecretKeySpec key;
  private final String source;
  private final String keyId;

  private SecretCipher(byte[] key, String source) {
    this.key = new SecretKeySpec(key, "AES");
    this.source = source;
    this.keyId = keyId(key);
  }

  /** A cipher from {@code SECRETS_KEY}'s value; a value that is not Base64 of 32 bytes stops start-up naming it. */
  public static SecretCipher fromBase64(String secretsKey) {
    return fromBase64(secretsKey, "SECRETS_KEY");
  }

  /**
   * As {@link #fromBase64(String)}, for a key that came from {@code source}: {@code SECRETS_KEY}, or the file it was
   * read from (already checked by {@code Credentials}).
   */
  public static SecretCipher fromBase64(String secretsKey, String source) {
    byte[] key;
    try {
      key = Base64.getDecoder().decode(secretsKey.trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("SECRETS_KEY must be Base64 of " + KEY_BYTES + " random bytes; it is not valid Base64");
    }
    if (key.length != KEY_BYTES) {
      throw new ConfigException(
          "SECRETS_KEY must be Base64 of " + KEY_BYTES + " random bytes; it decodes to " + key.length + " bytes");
    }
    return new SecretCipher(key, source);
  }

  /** Where the key came from: {@code SECRETS_KEY}, or the key file used while it is unset. */
  public String source() {
    return source;
  }

  /**
   * The key's public name: 8 hex digits of an HMAC-SHA256 of a fixed label under the key. Two instances with the same
   * key show the same id, and the id tells nothing about the key, so it can be logged and stored beside what the key
   * sealed.
   */
  public String keyId() {
    return keyId;
  }

  /** A fresh random key in {@code SECRETS_KEY} form, for the embedded default. */
  public static String generateKey() {
    byte[] key = new byte[KEY_BYTES];
    RANDOM.nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  public String encrypt(String secret, String installationId) {
    byte[] iv = new byte[IV_BYTES];
    RANDOM.nextBytes(iv);
    try {
      Cipher cipher = cipher(Cipher.ENCRYPT_MODE, iv, installationId);
      byte[] sealed = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
      return PREFIX + Base64.getEncoder().encodeToString(ByteBuffer.allocate(IV_BYTES + sealed.length)
          .put(iv).put(sealed).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is required by every Java runtime", e);
    }
  }

  /**
   * The secret sealed by {@link #encrypt} for the same installation id.
   *
   * @throws WrongKeyException when the text is well formed but does not authenticate: sealed with another key (or
   *     for another id, or tampered with)
   * @throws IllegalArgumentException when the text is malformed
   */
  public String decrypt(String sealed, String installationId) {
    if (!sealed.startsWith(PREFIX)) {
      throw new IllegalArgumentException("not an encrypted secret of version v1");
    }
    try {
      byte[] raw = Base64.getDecoder().decode(sealed.substring(PREFIX.length()));
      if (raw.length < IV_BYTES + TAG_BITS / 8) {
        throw new IllegalArgumentException("encrypted secret is too short");
      }
      Cipher cipher = cipher(Cipher.DECRYPT_MODE, java.util.Arrays.copyOf(raw, IV_BYTES), installationId);
      return new String(cipher.doFinal(raw, IV_BYTES, raw.length - IV_BYTES), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      throw new WrongKeyException(e);
    }
  }

  /**
   * A sealed secret that does not authenticate with this key. Sealed by this service, that almost always means by an
   * instance with another key: what to do about it is the installation store's decision.
   */
  public static final class WrongKeyException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    WrongKeyException(GeneralSecurityException cause) {
      super("encrypted secret does not authenticate (wrong key, wrong id or tampered)", cause);
    }
  }

  private static String keyId(byte[] key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(KEY_ID_LABEL), 0, 4);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is required by every Java runtime", e);
    }
  }

  private Cipher cipher(int mode, byte[] iv, String installationId) throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, iv));
    cipher.updateAAD(installationId.getBytes(StandardCharsets.UTF_8));
    return cipher;
  }
}
