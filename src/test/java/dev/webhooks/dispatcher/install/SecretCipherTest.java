package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webhooks.dispatcher.config.ConfigException;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SecretCipherTest {
  private final SecretCipher cipher = SecretCipher.fromBase64(SecretCipher.generateKey());

  @Test
  void roundTripsASecret() {
    String sealed = cipher.encrypt("s3cr3t-ü", "app-1");
    assertThat(sealed).startsWith("v1:").doesNotContain("s3cr3t");
    assertThat(cipher.decrypt(sealed, "app-1")).isEqualTo("s3cr3t-ü");
  }

  @Test
  void usesAFreshIvEveryTime() {
    assertThat(cipher.encrypt("same", "app-1")).isNotEqualTo(cipher.encrypt("same", "app-1"));
  }

  @Test
  void detectsTampering() {
    String sealed = cipher.encrypt("s3cr3t", "app-1");
    byte[] raw = Base64.getDecoder().decode(sealed.substring(3));
    raw[raw.length - 1] ^= 1;
    String tampered = "v1:" + Base64.getEncoder().encodeToString(raw);
    assertThatThrownBy(() -> cipher.decrypt(tampered, "app-1")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesASecretMovedToAnotherInstallation() {
    String sealed = cipher.encrypt("s3cr3t", "app-1");
    assertThatThrownBy(() -> cipher.decrypt(sealed, "app-2")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesAnotherKey() {
    String sealed = cipher.encrypt("s3cr3t", "app-1");
    SecretCipher other = SecretCipher.fromBase64(SecretCipher.generateKey());
    assertThatThrownBy(() -> other.decrypt(sealed, "app-1")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void namesItsKeyWithAnIdThatIsTheSameForTheSameKeyWhereverItCameFrom() {
    String key = SecretCipher.generateKey();
    String id = SecretCipher.fromBase64(key).keyId();
    assertThat(id).matches("[0-9a-f]{8}").isEqualTo(SecretCipher.fromBase64(key, "DATA_DIR/secrets-key").keyId());
    assertThat(cipher.keyId()).isNotEqualTo(id);
  }

  @Test
  void namesSecretsKeyWhenTheKeyIsMalformed() {
    assertThatThrownBy(() -> SecretCipher.fromBase64("not base64!")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("SECRETS_KEY");
    assertThatThrownBy(() -> SecretCipher.fromBase64(Base64.getEncoder().encodeToString(new byte[16])))
        .isInstanceOf(ConfigException.class).hasMessageContaining("SECRETS_KEY").hasMessageContaining("16 bytes");
  }
}
