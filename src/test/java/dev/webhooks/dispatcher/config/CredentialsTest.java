package dev.webhooks.dispatcher.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A broken credential is a configuration error found before anything starts, naming where it came from. */
class CredentialsTest {
  @TempDir Path dir;

  @Test
  void anEmptyAdminTokenFileNamesTheFileAndHowToRecover() throws Exception {
    Path token = Files.writeString(dir.resolve("admin-token"), "");

    assertThatThrownBy(() -> Credentials.resolve(embedded()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(token + " is empty; delete it to have a new token generated, or set ADMIN_TOKEN");
  }

  @Test
  void anAdminTokenFileOfOnlyWhitespaceIsEmptyToo() throws Exception {
    Files.writeString(dir.resolve("admin-token"), " \n");

    assertThatThrownBy(() -> Credentials.resolve(embedded()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("admin-token is empty");
  }

  @Test
  void aKeyFileThatIsNotAKeyNamesTheFileNotTheVariable() throws Exception {
    Path key = Files.writeString(dir.resolve("secrets-key"), "garbage");

    assertThatThrownBy(() -> Credentials.resolve(embedded()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(key + " is not Base64 of 32 bytes")
        .hasMessageContaining("restore the key the installations were written with")
        .hasMessageNotContaining("SECRETS_KEY");
    assertThat(Files.readString(key)).as("the file is left for the operator to restore").isEqualTo("garbage");
  }

  @Test
  void anEmptyKeyFileIsNotAKey() throws Exception {
    Path key = Files.writeString(dir.resolve("secrets-key"), "");

    assertThatThrownBy(() -> Credentials.resolve(embedded()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(key + " is not Base64 of 32 bytes");
  }

  @Test
  void aMalformedSecretsKeyVariableIsNamedWithAnEmbeddedBroker() {
    assertThatThrownBy(() -> Credentials.resolve(Config.fromEnv(Map.of(
            "DATA_DIR", dir.toString(), "SECRETS_KEY", "c2hvcnQ="))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SECRETS_KEY must be Base64 of 32 random bytes; it decodes to 5 bytes");
  }

  @Test
  void aMalformedSecretsKeyVariableIsNamedWithAnExternalBroker() {
    assertThatThrownBy(() -> Credentials.resolve(Config.fromEnv(Map.of(
            "KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "ADMIN_TOKEN", "t", "SECRETS_KEY", "not base64!"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SECRETS_KEY must be Base64 of 32 random bytes; it is not valid Base64");
  }

  @Test
  void theKeySourceSaysWhereTheKeyCameFrom() {
    Credentials generated = Credentials.resolve(embedded());
    assertThat(generated.secretsKeySource()).isEqualTo(dir.resolve("secrets-key").toString());

    Credentials given = Credentials.resolve(Config.fromEnv(Map.of(
        "DATA_DIR", dir.toString(), "SECRETS_KEY", generated.secretsKey())));
    assertThat(given.secretsKeySource()).isEqualTo("SECRETS_KEY");
  }

  @Test
  void twoStartsMakingTheSecretsAtOnceUseTheSameOnesAndLeaveNothingElse() throws Exception {
    ExecutorService starts = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 40; round++) {
        Config config = Config.fromEnv(Map.of("DATA_DIR", dir.resolve("round-" + round).toString()));
        CyclicBarrier together = new CyclicBarrier(2);
        Callable<Credentials> start = () -> {
          together.await();
          return Credentials.resolve(config);
        };
        Future<Credentials> first = starts.submit(start);
        Future<Credentials> second = starts.submit(start);

        Credentials one = first.get(10, TimeUnit.SECONDS);
        Credentials other = second.get(10, TimeUnit.SECONDS);
        assertThat(other.adminToken()).as("round %d", round).isEqualTo(one.adminToken());
        assertThat(other.secretsKey()).as("round %d", round).isEqualTo(one.secretsKey());
        assertThat(Files.readString(config.dataDir().resolve("secrets-key")).trim()).isEqualTo(one.secretsKey());
        try (Stream<Path> files = Files.list(config.dataDir())) {
          assertThat(files.map(file -> file.getFileName().toString()))
              .as("no temporary file left").containsExactlyInAnyOrder("admin-token", "secrets-key");
        }
        assertThat(Files.getPosixFilePermissions(config.dataDir().resolve("secrets-key")))
            .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      }
    } finally {
      starts.shutdownNow();
    }
  }

  @Test
  void whatACrashedStartLeftOfANewSecretIsDeletedOnceItIsAMinuteOld() throws Exception {
    Credentials made = Credentials.resolve(embedded());
    Path crashed = Files.writeString(dir.resolve("secrets-key.1234.new"), "a key never linked in");
    Files.setLastModifiedTime(crashed, FileTime.from(Instant.now().minus(Duration.ofMinutes(2))));
    Path beingMade = Files.writeString(dir.resolve("admin-token.5678.new"), "another start's, about to be linked");

    Credentials again = Credentials.resolve(embedded());

    assertThat(again.secretsKey()).isEqualTo(made.secretsKey());
    assertThat(crashed).doesNotExist();
    assertThat(beingMade).exists();
  }

  private Config embedded() {
    return Config.fromEnv(Map.of("DATA_DIR", dir.toString()));
  }
}
