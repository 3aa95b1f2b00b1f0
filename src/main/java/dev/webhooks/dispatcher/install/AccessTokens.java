package dev.webhooks.dispatcher.install;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * OAuth 2.0 access tokens: JWTs signed with HMAC-SHA256, naming the installation ({@code sub}, the client id), its
 * account, the scopes granted and a fingerprint of the client secret they were issued for ({@code sec}). The key is
 * derived from {@code SECRETS_KEY}, so every instance of a deployment issues and accepts the same tokens with no
 * setting of its own. A token counts only while its secret is the installation's current one ({@link #issuedFor}):
 * rotating a leaked secret also ends the tokens issued for it.
 */
public final class AccessTokens {
  /** Short-lived: a leaked token is useless within the hour, and clients fetch a new one cheaply. */
  public static final Duration LIFETIME = Duration.ofHours(1);
  static final String ISSUER = "webhook-dispatcher";
  private static final String DERIVATION_LABEL = "webhook-dispatcher oauth access token signing key v1";

  /** What a valid token says: which app of which account, with which scopes, issued for which secret. */
  public record Grant(String clientId, String accountId, String scope, Instant expiresAt, String secretFingerprint) {}

  private final byte[] key;
  private final Clock clock;

  AccessTokens(byte[] key, Clock clock) {
    this.key = key.clone();
    this.clock = clock;
  }

  /** Tokens keyed by HMAC-SHA256(SECRETS_KEY, label): never the AES key itself, which seals the secrets. */
  public static AccessTokens fromSecretsKey(String secretsKeyBase64, Clock clock) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(Base64.getDecoder().decode(secretsKeyBase64.trim()), "HmacSHA256"));
      return new AccessTokens(mac.doFinal(DERIVATION_LABEL.getBytes(StandardCharsets.UTF_8)), clock);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required by every Java runtime", e);
    }
  }

  /** A signed token for this grant, issued for the client secret {@code secret}, valid for {@link #LIFETIME}. */
  String issue(String clientId, String accountId, String scope, String secret) {
    Instant now = clock.instant();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .subject(clientId)
        .claim("client_id", clientId)
        .claim("account_id", accountId)
        .claim("scope", scope)
        .claim("sec", fingerprint(secret))
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(LIFETIME)))
        .jwtID(UUID.randomUUID().toString())
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    try {
      jwt.sign(new MACSigner(key));
    } catch (JOSEException e) {
      throw new IllegalStateException("a 256-bit key always signs HS256", e);
    }
    return jwt.serialize();
  }

  /** The grant of a token this service issued that has not expired; empty for anything else. */
  Optional<Grant> verify(String token) {
    try {
      SignedJWT jwt = SignedJWT.parse(token);
      JWSVerifier verifier = new MACVerifier(key);
      if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm()) || !jwt.verify(verifier)) {
        return Optional.empty();
      }
      JWTClaimsSet claims = jwt.getJWTClaimsSet();
      Date expiry = claims.getExpirationTime();
      String clientId = claims.getSubject();
      String accountId = claims.getStringClaim("account_id");
      String secret = claims.getStringClaim("sec");
      if (!ISSUER.equals(claims.getIssuer()) || expiry == null || !expiry.toInstant().isAfter(clock.instant())
          || clientId == null || accountId == null || secret == null) {
        return Optional.empty();
      }
      return Optional.of(new Grant(clientId, accountId, Optional.ofNullable(claims.getStringClaim("scope")).orElse(""),
          expiry.toInstant(), secret));
    } catch (ParseException | JOSEException | RuntimeException e) {
      // Whatever the bearer sent that is not our valid token is simply not a grant.
      return Optional.empty();
    }
  }

  /** Whether {@code grant} was issued for {@code secret}: the installation's current secret, for a token to count. */
  boolean issuedFor(Grant grant, String secret) {
    return MessageDigest.isEqual(grant.secretFingerprint().getBytes(StandardCharsets.US_ASCII),
        fingerprint(secret).getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * Names a secret without giving it away, even one an operator imported that is weak: keyed by the token key, so
   * the claim cannot be checked against guesses without it.
   */
  private String fingerprint(String secret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      byte[] digest = mac.doFinal(("client secret:" + secret).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, 16));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required by every Java runtime", e);
    }
  }
}
