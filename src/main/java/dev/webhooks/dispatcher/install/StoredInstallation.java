package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The value of an installation's record on the installations topic (the key is the installation id; a deleted one is a
 * tombstone). Compact JSON, credentials only in sealed form:
 *
 * <pre>{"format":1,"account_id":"123","client_id_issued_at":1700000000,"revision":1,"updated_at":1700000000,
 *  "client_secrets":[{"sealed":"v1:...","key_id":"3f9a12c0","created_at":1700000000}],"manifest":{...}}</pre>
 *
 * @param accountId the account the app is installed on
 * @param manifest the canonical manifest ({@link Manifest#canonical}), no credentials
 * @param secrets the client secrets, sealed by {@link SecretCipher}, current first; a rotation keeps the previous one
 *     with an expiry
 * @param clientIdIssuedAt epoch seconds
 * @param revision starts at 1, one up per change; served as {@code ac-revision}
 * @param updatedAt epoch seconds of this revision
 */
public record StoredInstallation(
    String accountId, ObjectNode manifest, List<Secret> secrets, long clientIdIssuedAt, long revision, long updatedAt) {
  /** Bumped only for a change old readers cannot skip safely; readers refuse formats they do not know. */
  static final int FORMAT = 1;
  private static final Pattern KEY_ID = Pattern.compile("[0-9a-f]{8}");
  /** The manifests' own mapper: its numbers come back from the topic exactly as they were installed. */
  private static final ObjectMapper MAPPER = ManifestBodies.MAPPER;

  public StoredInstallation {
    Objects.requireNonNull(accountId, "accountId");
    Objects.requireNonNull(manifest, "manifest");
    secrets = List.copyOf(secrets);
    if (secrets.isEmpty()) {
      throw new IllegalArgumentException("an installation has at least one client secret");
    }
  }

  /**
   * One sealed client secret.
   *
   * @param keyId the {@link SecretCipher#keyId} of the key that sealed it, or null in records written before key ids
   * @param expiresAt epoch seconds after which it no longer signs, or 0 when it does not expire (rotation sets it on
   *     the previous secret)
   */
  public record Secret(String sealed, String keyId, long createdAt, long expiresAt) {
    /** {@code clientSecret} sealed for installation {@code id}, created now, not expiring. */
    public static Secret seal(String clientSecret, String id, SecretCipher cipher, long nowSeconds) {
      return new Secret(cipher.encrypt(clientSecret, id), cipher.keyId(), nowSeconds, 0);
    }
  }

  /** A first revision with one secret, sealed for this installation id. */
  public static StoredInstallation create(
      String id, String accountId, ObjectNode manifest, String clientSecret, SecretCipher cipher, long nowSeconds) {
    Secret secret = Secret.seal(clientSecret, id, cipher, nowSeconds);
    return new StoredInstallation(accountId, manifest, List.of(secret), nowSeconds, 1, nowSeconds);
  }

  /**
   * At most this many secrets sign at once, the current one first. Rotations are the app's own to make (with its
   * token), so without a bound an app rotating in a loop would grow {@code webhook-signature} past receivers' header
   * limits, cost one HMAC of the body per secret at every attempt, and its record past what Kafka takes.
   */
  static final int MAX_SIGNING_SECRETS = 3;

  /** The next revision with a new manifest (a PUT); credentials and issue time unchanged. */
  public StoredInstallation revise(ObjectNode newManifest, long nowSeconds) {
    return new StoredInstallation(accountId, newManifest, secrets, clientIdIssuedAt, revision + 1, nowSeconds);
  }

  /**
   * The next revision with a new current secret (sealed for this id): the previous current one keeps signing until
   * {@code now + graceSeconds}, earlier ones until their own expiry; those already expired are dropped, and so are the
   * oldest past {@link #MAX_SIGNING_SECRETS}.
   */
  public StoredInstallation rotate(Secret fresh, long nowSeconds, long graceSeconds) {
    List<Secret> next = new ArrayList<>();
    next.add(fresh);
    for (int i = 0; i < secrets.size() && next.size() < MAX_SIGNING_SECRETS; i++) {
      Secret s = secrets.get(i);
      long expiresAt = i == 0 || s.expiresAt() == 0 ? nowSeconds + graceSeconds : s.expiresAt();
      if (expiresAt > nowSeconds) {
        next.add(new Secret(s.sealed(), s.keyId(), s.createdAt(), expiresAt));
      }
    }
    return new StoredInstallation(accountId, manifest, next, clientIdIssuedAt, revision + 1, nowSeconds);
  }

  /** The earliest expiry of a secret that still signs at {@code now}, or {@link Long#MAX_VALUE} when none expires. */
  public long nextExpiry(long nowSeconds) {
    return secrets.stream().mapToLong(Secret::expiresAt).filter(e -> e > nowSeconds).min().orElse(Long.MAX_VALUE);
  }

  /** How many secrets sign at {@code now}: the current one, and those not yet expired. */
  int signingCount(long nowSeconds) {
    int count = 0;
    for (int i = 0; i < secrets.size(); i++) {
      if (signs(i, nowSeconds)) {
        count++;
      }
    }
    return count;
  }

  private boolean signs(int i, long nowSeconds) {
    long expiresAt = secrets.get(i).expiresAt();
    return i == 0 || expiresAt == 0 || expiresAt > nowSeconds;
  }

  /** The key ids of the secrets that sign at {@code now} (null for a secret stored without one), current first. */
  List<String> signingKeyIds(long nowSeconds) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < secrets.size(); i++) {
      if (signs(i, nowSeconds)) {
        ids.add(secrets.get(i).keyId());
      }
    }
    return ids;
  }

  /** The installation the dispatcher serves: secrets decrypted, current first, those expired at {@code now} left out. */
  public Installation open(String id, SecretCipher cipher, long nowSeconds) {
    List<String> signing = new ArrayList<>();
    for (int i = 0; i < secrets.size(); i++) {
      if (signs(i, nowSeconds)) {
        signing.add(cipher.decrypt(secrets.get(i).sealed(), id));
      }
    }
    return new Installation(id, accountId, Manifest.enabled(manifest), Manifest.webhooks(manifest), signing, manifest,
        clientIdIssuedAt, Long.toString(revision));
  }

  public byte[] toJson() {
    ObjectNode json = MAPPER.createObjectNode()
        .put("format", FORMAT)
        .put("account_id", accountId)
        .put("client_id_issued_at", clientIdIssuedAt)
        .put("revision", revision)
        .put("updated_at", updatedAt);
    for (Secret s : secrets) {
      ObjectNode secret = json.withArray("client_secrets").addObject().put("sealed", s.sealed());
      if (s.keyId() != null) {
        secret.put("key_id", s.keyId());
      }
      secret.put("created_at", s.createdAt());
      if (s.expiresAt() != 0) {
        secret.put("expires_at", s.expiresAt());
      }
    }
    json.set("manifest", manifest);
    try {
      return MAPPER.writeValueAsBytes(json);
    } catch (IOException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }

  /** @throws IllegalArgumentException when the bytes are not a value this version understands */
  public static StoredInstallation fromJson(byte[] value) {
    JsonNode json;
    try {
      json = MAPPER.readTree(value);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    if (json == null || json.path("format").asInt() != FORMAT) {
      throw new IllegalArgumentException("unknown format " + (json == null ? null : json.get("format")));
    }
    if (!json.path("account_id").isTextual() || !json.path("manifest").isObject()) {
      throw new IllegalArgumentException("account_id or manifest missing");
    }
    List<Secret> secrets = new ArrayList<>();
    for (JsonNode s : json.path("client_secrets")) {
      if (!s.path("sealed").isTextual()) {
        throw new IllegalArgumentException("client secret without its sealed value");
      }
      String keyId = s.path("key_id").asText("");
      keyId = KEY_ID.matcher(keyId).matches() ? keyId : null; // a name for messages: never anything else
      secrets.add(new Secret(
          s.get("sealed").textValue(), keyId, s.path("created_at").asLong(), s.path("expires_at").asLong(0)));
    }
    return new StoredInstallation(json.get("account_id").textValue(), (ObjectNode) json.get("manifest"), secrets,
        json.path("client_id_issued_at").asLong(), json.path("revision").asLong(1), json.path("updated_at").asLong());
  }
}
