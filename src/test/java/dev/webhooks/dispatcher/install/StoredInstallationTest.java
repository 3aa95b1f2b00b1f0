package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class StoredInstallationTest {
  private static final long NOW = 1_700_000_000L;
  private final SecretCipher cipher = SecretCipher.fromBase64(SecretCipher.generateKey());

  @Test
  void roundTripsThroughItsJsonAndOpensWithTheSecretDecrypted() {
    StoredInstallation stored = StoredInstallation.create("app-1", "acc", Manifest.canonical(Manifests.specExample()),
        "the-secret", cipher, NOW);
    byte[] json = stored.toJson();

    assertThat(new String(json, StandardCharsets.UTF_8)).doesNotContain("the-secret").doesNotContain("\n");
    StoredInstallation read = StoredInstallation.fromJson(json);
    assertThat(read).isEqualTo(stored);
    assertThat(read.toJson()).as("the same bytes again: a write whose commit is in doubt is found by them").isEqualTo(json);
    Installation installation = read.open("app-1", cipher, NOW);
    assertThat(installation.signingSecrets()).containsExactly("the-secret");
    assertThat(installation.issuedAt()).isEqualTo(NOW);
    assertThat(installation.revision()).isEqualTo("1");
    assertThat(installation.webhooks()).hasSize(5);
  }

  @Test
  void signsWithThePreviousSecretUntilItExpires() {
    StoredInstallation stored = new StoredInstallation("acc", Manifests.withWebhook(WebhookKeys.CONTENT, "https://e.x"),
        List.of(seal("new", NOW), new StoredInstallation.Secret(cipher.encrypt("old", "app-1"), null, NOW - 100, NOW + 60)),
        NOW - 100, 2, NOW);
    StoredInstallation read = StoredInstallation.fromJson(stored.toJson());
    assertThat(read.open("app-1", cipher, NOW).signingSecrets()).containsExactly("new", "old");
    assertThat(read.open("app-1", cipher, NOW + 60).signingSecrets()).containsExactly("new");
    assertThat(read.signingKeyIds(NOW)).as("a secret stored before key ids has none").containsExactly(cipher.keyId(), null);
  }

  private StoredInstallation.Secret seal(String secret, long now) {
    return StoredInstallation.Secret.seal(secret, "app-1", cipher, now);
  }

  @Test
  void revisesTheManifestKeepingTheCredentials() {
    StoredInstallation stored = StoredInstallation.create("app-1", "acc", Manifests.specExample(), "s", cipher, NOW);
    StoredInstallation next = stored.revise(Manifests.withWebhook(WebhookKeys.CONTENT, "https://e.x"), NOW + 5);
    assertThat(next.revision()).isEqualTo(2);
    assertThat(next.secrets()).isEqualTo(stored.secrets());
    assertThat(next.clientIdIssuedAt()).isEqualTo(NOW);
    assertThat(next.updatedAt()).isEqualTo(NOW + 5);
  }

  @Test
  void rotationPutsTheNewSecretFirstAndExpiresThePreviousOneAfterTheGrace() {
    StoredInstallation first = StoredInstallation.create("app-1", "acc", Manifests.specExample(), "one", cipher, NOW);
    StoredInstallation second = first.rotate(seal("two", NOW + 10), NOW + 10, 100);
    StoredInstallation third = second.rotate(seal("three", NOW + 20), NOW + 20, 100);

    assertThat(second.revision()).isEqualTo(2);
    assertThat(second.open("app-1", cipher, NOW + 10).signingSecrets()).containsExactly("two", "one");
    assertThat(second.open("app-1", cipher, NOW + 110).signingSecrets()).containsExactly("two");
    assertThat(second.nextExpiry(NOW + 10)).isEqualTo(NOW + 110);
    assertThat(third.open("app-1", cipher, NOW + 20).signingSecrets()).containsExactly("three", "two", "one");
    assertThat(third.open("app-1", cipher, NOW + 115).signingSecrets()).containsExactly("three", "two");
    assertThat(third.signingCount(NOW + 120)).isEqualTo(1);
    assertThat(first.rotate(seal("now", NOW), NOW, 0).secrets()).hasSize(1);
  }

  @Test
  void rotationsInARowKeepOnlyTheNewestSecretsSigning() {
    StoredInstallation stored = StoredInstallation.create("app-1", "acc", Manifests.specExample(), "s0", cipher, NOW);
    for (int i = 1; i <= 10; i++) {
      stored = stored.rotate(seal("s" + i, NOW + i), NOW + i, 100);
    }

    assertThat(stored.secrets()).hasSize(StoredInstallation.MAX_SIGNING_SECRETS);
    assertThat(stored.open("app-1", cipher, NOW + 10).signingSecrets()).containsExactly("s10", "s9", "s8");
  }

  @Test
  void refusesValuesItDoesNotUnderstand() {
    assertThatThrownBy(() -> StoredInstallation.fromJson("nope".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StoredInstallation.fromJson("{\"format\":2}".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("format");
    assertThatThrownBy(() -> StoredInstallation.fromJson(
        "{\"format\":1,\"account_id\":\"a\",\"manifest\":{}}".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
