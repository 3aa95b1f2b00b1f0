package dev.webhooks.dispatcher.signing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.SHA1Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;
import org.junit.jupiter.api.Test;

/** Fixed vectors, and BouncyCastle's HMAC (not the JDK's) as the independent reference. */
class SignerTest {
  private static final byte[] BODY =
      "{\"kind\":\"notification\",\"body\":{\"changes\":[{\"event\":{\"type\":\"ContentEvent\",\"message\":\"héllo ✓\"}}]},\"type\":\"ms.MessagingEventNotification\"}"
          .getBytes(StandardCharsets.UTF_8);

  @Test
  void livepersonSignatureMatchesRfc2202Vector() {
    // RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?") = effcdf6a...259a7c79
    assertThat(Signer.liveperson("Jefe", "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo("sha1=7/zfauXrL6LSdBbV8YTfnCWafHk=");
  }

  @Test
  void livepersonSignatureIsSha1OfTheExactBodyWithTheUtf8Secret() {
    String secret = "sëcret-ü";
    assertThat(Signer.liveperson(secret, BODY)).isEqualTo("sha1=" + hmac(new SHA1Digest(), secret, BODY));
  }

  @Test
  void standardSignatureCoversIdTimestampAndBody() {
    String expected = hmac(new SHA256Digest(), "s1", bytes("msg_42.1700000000.", BODY));
    assertThat(Signer.standard(List.of("s1"), "msg_42", 1_700_000_000L, BODY)).isEqualTo("v1," + expected);
  }

  @Test
  void standardSignatureCarriesOneEntryPerSecretDuringRotation() {
    String header = Signer.standard(List.of("new", "old"), "id-1", 1L, BODY);
    assertThat(header.split(" "))
        .containsExactly(
            "v1," + hmac(new SHA256Digest(), "new", bytes("id-1.1.", BODY)),
            "v1," + hmac(new SHA256Digest(), "old", bytes("id-1.1.", BODY)));
  }

  @Test
  void standardSignatureOfAFixedVector() {
    // computed once with `printf 'wh-1.1614265330.{"test": 2432232314}' | openssl dgst -sha256 -hmac secret -binary | base64`
    assertThat(Signer.standard(List.of("secret"), "wh-1", 1614265330L, "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("v1,25zE9+qdRnD45wzIBtvPNyxHX1o6/4Q8XT1RmOzwx3o=");
  }

  @Test
  void aViewIsSignedFromItsPositionToItsLimitAndLeftAsItWas() {
    byte[] framed = bytes("xx", bytes(BODY, "yy"));
    ByteBuffer view = ByteBuffer.wrap(framed, 2, BODY.length);

    assertThat(Signer.liveperson("s", view)).isEqualTo(Signer.liveperson("s", BODY));
    assertThat(Signer.standard(List.of("s", "t"), "id-1", 1L, view))
        .isEqualTo(Signer.standard(List.of("s", "t"), "id-1", 1L, BODY));
    assertThat(view.position()).isEqualTo(2);
    assertThat(view.remaining()).isEqualTo(BODY.length);
  }

  @Test
  void webhookSecretIsBase64OfTheClientSecret() {
    assertThat(Signer.webhookSecret("abc")).isEqualTo("whsec_YWJj");
  }

  private static String hmac(Digest digest, String key, byte[] message) {
    HMac mac = new HMac(digest);
    mac.init(new KeyParameter(key.getBytes(StandardCharsets.UTF_8)));
    mac.update(message, 0, message.length);
    byte[] out = new byte[mac.getMacSize()];
    mac.doFinal(out, 0);
    return Base64.getEncoder().encodeToString(out);
  }

  private static byte[] bytes(String prefix, byte[] body) {
    byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
    byte[] all = new byte[p.length + body.length];
    System.arraycopy(p, 0, all, 0, p.length);
    System.arraycopy(body, 0, all, p.length, body.length);
    return all;
  }

  private static byte[] bytes(byte[] body, String suffix) {
    byte[] s = suffix.getBytes(StandardCharsets.UTF_8);
    byte[] all = Arrays.copyOf(body, body.length + s.length);
    System.arraycopy(s, 0, all, body.length, s.length);
    return all;
  }
}
