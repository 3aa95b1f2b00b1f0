package dev.webhooks.dispatcher.cli;

import dev.webhooks.dispatcher.signing.Signer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Verifies the two signatures a delivery carries, the way a receiver would: recompute with the client secret over the
 * exact body bytes and compare in constant time. Pure: the caller passes the headers, the body and the current time.
 */
public final class SignatureCheck {
  /** Standard Webhooks receivers reject timestamps further than this from their clock (replay protection). */
  public static final Duration TOLERANCE = Duration.ofMinutes(5);

  /** What a check concluded about one header. */
  public enum Verdict {
    VALID,
    INVALID,
    MISSING
  }

  /**
   * Both verdicts and, when the {@code webhook-timestamp} is unreadable or more than {@link #TOLERANCE} away from now,
   * a warning saying so.
   */
  public record Result(Verdict liveperson, Verdict standard, Optional<String> timestampWarning) {}

  private SignatureCheck() {}

  /**
   * Checks {@code x-liveperson-signature} and {@code webhook-signature} (with {@code webhook-id} and {@code
   * webhook-timestamp}); a null header counts as missing.
   */
  public static Result check(
      String secret,
      byte[] body,
      String livepersonSignature,
      String webhookId,
      String webhookTimestamp,
      String webhookSignature,
      Instant now) {
    return new Result(
        liveperson(secret, body, livepersonSignature),
        standard(secret, body, webhookId, webhookTimestamp, webhookSignature),
        timestampWarning(webhookTimestamp, now));
  }

  /** {@code x-liveperson-signature}: {@code sha1=} + Base64(HMAC-SHA1(secret, body)). */
  public static Verdict liveperson(String secret, byte[] body, String header) {
    if (header == null || header.isBlank()) {
      return Verdict.MISSING;
    }
    return matches(Signer.liveperson(secret, body), header.trim()) ? Verdict.VALID : Verdict.INVALID;
  }

  /** {@code webhook-signature}: valid when any of its space-separated {@code v1,} entries matches. */
  public static Verdict standard(String secret, byte[] body, String id, String timestamp, String header) {
    if (header == null || header.isBlank() || id == null || timestamp == null) {
      return Verdict.MISSING;
    }
    long seconds;
    try {
      seconds = Long.parseLong(timestamp.trim());
    } catch (NumberFormatException e) {
      return Verdict.INVALID;
    }
    String expected = Signer.standard(List.of(secret), id, seconds, body);
    for (String entry : header.trim().split(" +")) {
      if (entry.startsWith("v1,") && matches(expected, entry)) {
        return Verdict.VALID;
      }
    }
    return Verdict.INVALID;
  }

  /** A warning when the timestamp is not a number or is more than {@link #TOLERANCE} from {@code now}. */
  public static Optional<String> timestampWarning(String timestamp, Instant now) {
    if (timestamp == null) {
      return Optional.empty();
    }
    try {
      Duration offset = Duration.between(now, Instant.ofEpochSecond(Long.parseLong(timestamp.trim())));
      if (offset.abs().compareTo(TOLERANCE) <= 0) {
        return Optional.empty();
      }
      String direction = offset.isNegative() ? "behind" : "ahead of";
      return Optional.of(
          "webhook-timestamp is " + offset.abs().toSeconds() + " s " + direction + " this machine's clock;"
              + " Standard Webhooks receivers reject more than " + TOLERANCE.toMinutes() + " minutes");
    } catch (NumberFormatException | java.time.DateTimeException e) {
      return Optional.of("webhook-timestamp '" + timestamp + "' is not Unix seconds");
    }
  }

  private static boolean matches(String expected, String actual) {
    return MessageDigest.isEqual(
        expected.getBytes(StandardCharsets.UTF_8), actual.getBytes(StandardCharsets.UTF_8));
  }
}
