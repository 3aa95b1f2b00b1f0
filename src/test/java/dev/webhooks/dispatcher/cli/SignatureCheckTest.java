package dev.webhooks.dispatcher.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.testing.Hmac;
import dev.webhooks.dispatcher.cli.SignatureCheck.Result;
import dev.webhooks.dispatcher.cli.SignatureCheck.Verdict;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SignatureCheckTest {
  private static final String SECRET = "s3cr3t-client-secret";
  private static final byte[] BODY =
      "{\"kind\":\"notification\",\"body\":{\"changes\":[]},\"type\":\"ms.MessagingEventNotification\"}"
          .getBytes(StandardCharsets.UTF_8);
  private static final String ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  private static final long TS = 1_764_000_000L;
  private static final Instant NOW = Instant.ofEpochSecond(TS + 2);

  @Test
  void acceptsBothSignaturesMadeWithTheSecret() {
    Result result = check(SECRET, BODY, sha1(SECRET, BODY), String.valueOf(TS), v1(SECRET, BODY), NOW);

    assertThat(result).isEqualTo(new Result(Verdict.VALID, Verdict.VALID, java.util.Optional.empty()));
  }

  @Test
  void rejectsSignaturesMadeWithAnotherSecret() {
    Result result = check(SECRET, BODY, sha1("other", BODY), String.valueOf(TS), v1("other", BODY), NOW);

    assertThat(result.liveperson()).isEqualTo(Verdict.INVALID);
    assertThat(result.standard()).isEqualTo(Verdict.INVALID);
  }

  @Test
  void acceptsAnyMatchingEntryDuringARotation() {
    String header = v1("old-secret", BODY) + " v2,ignored " + v1(SECRET, BODY);

    assertThat(SignatureCheck.standard(SECRET, BODY, ID, String.valueOf(TS), header)).isEqualTo(Verdict.VALID);
    assertThat(SignatureCheck.standard("unknown", BODY, ID, String.valueOf(TS), header)).isEqualTo(Verdict.INVALID);
  }

  @Test
  void rejectsATamperedBody() {
    byte[] tampered = new String(BODY, StandardCharsets.UTF_8).replace("[]", "[ ]").getBytes(StandardCharsets.UTF_8);

    Result result = check(SECRET, tampered, sha1(SECRET, BODY), String.valueOf(TS), v1(SECRET, BODY), NOW);

    assertThat(result.liveperson()).isEqualTo(Verdict.INVALID);
    assertThat(result.standard()).isEqualTo(Verdict.INVALID);
  }

  @Test
  void rejectsASignatureForAnotherTimestamp() {
    assertThat(SignatureCheck.standard(SECRET, BODY, ID, String.valueOf(TS + 1), v1(SECRET, BODY)))
        .isEqualTo(Verdict.INVALID);
  }

  @Test
  void reportsMissingHeaders() {
    Result result = SignatureCheck.check(SECRET, BODY, null, null, null, null, NOW);

    assertThat(result).isEqualTo(new Result(Verdict.MISSING, Verdict.MISSING, java.util.Optional.empty()));
  }

  @Test
  void warnsWhenTheTimestampIsMoreThanFiveMinutesOff() {
    assertThat(SignatureCheck.timestampWarning(String.valueOf(TS), Instant.ofEpochSecond(TS + 301)))
        .hasValueSatisfying(w -> assertThat(w).contains("301 s behind"));
    assertThat(SignatureCheck.timestampWarning(String.valueOf(TS), Instant.ofEpochSecond(TS - 400)))
        .hasValueSatisfying(w -> assertThat(w).contains("400 s ahead of"));
    assertThat(SignatureCheck.timestampWarning(String.valueOf(TS), Instant.ofEpochSecond(TS + 300))).isEmpty();
    assertThat(SignatureCheck.timestampWarning("yesterday", NOW)).isPresent();
  }

  private static Result check(String secret, byte[] body, String sha1, String ts, String v1, Instant now) {
    return SignatureCheck.check(secret, body, sha1, ID, ts, v1, now);
  }

  /** Recomputed here with the JDK alone, so the check is not verified against itself. */
  private static String sha1(String secret, byte[] body) {
    return "sha1=" + Hmac.base64("HmacSHA1", secret, body);
  }

  private static String v1(String secret, byte[] body) {
    byte[] prefix = (ID + "." + TS + ".").getBytes(StandardCharsets.UTF_8);
    byte[] message = new byte[prefix.length + body.length];
    System.arraycopy(prefix, 0, message, 0, prefix.length);
    System.arraycopy(body, 0, message, prefix.length, body.length);
    return "v1," + Hmac.base64("HmacSHA256", secret, message);
  }

}
