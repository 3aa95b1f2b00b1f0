package dev.webhooks.dispatcher.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTest {
  @Test
  void documentedDefaultsApplyWhenNothingIsSet() {
    Config config = Config.fromEnv(Map.of());
    assertThat(config.embeddedKafka()).isTrue();
    assertThat(config.eventsTopics()).containsExactly("messaging-events");
    assertThat(config.consumerGroup()).isEqualTo("webhook-dispatcher");
    assertThat(config.deadLetterTopic()).isEqualTo("webhook-dead-letters");
    assertThat(config.retryTopic()).isEqualTo("webhook-retries");
    assertThat(config.installationsTopic()).isEqualTo("app-installations");
    assertThat(config.maxEventBytes()).isEqualTo(262_144);
    assertThat(config.httpPort()).isEqualTo(8080);
    assertThat(config.managementPort()).isEqualTo(8081);
    assertThat(config.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.responseTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.retryBaseDelay()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.retryMultiplier()).isEqualTo(2.0);
    assertThat(config.retryMaxDelay()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.allowPrivateNetworks()).isFalse();
    assertThat(config.warmUp()).isEqualTo(Duration.ofMillis(750));
  }

  @Test
  void reportsEveryBadVariableByName() {
    assertThatThrownBy(() -> Config.fromEnv(Map.of("HTTP_PORT", "eighty", "RETRY_MULTIPLIER", "0.5",
            "DELIVERY_ALLOW_PRIVATE_NETWORKS", "yes")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("HTTP_PORT")
        .hasMessageContaining("RETRY_MULTIPLIER")
        .hasMessageContaining("DELIVERY_ALLOW_PRIVATE_NETWORKS");
  }

  @Test
  void theApiAndTheManagementEndpointsNeedPortsOfTheirOwn() {
    assertThatThrownBy(() -> Config.fromEnv(Map.of("HTTP_PORT", "9000", "MANAGEMENT_PORT", "9000")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("HTTP_PORT and MANAGEMENT_PORT must differ, both were 9000");
    assertThatThrownBy(() -> Config.fromEnv(Map.of("MANAGEMENT_PORT", "8080")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("both were 8080");
    Config ephemeral = Config.fromEnv(Map.of("HTTP_PORT", "0", "MANAGEMENT_PORT", "0"));
    assertThat(ephemeral.httpPort()).isZero();
    assertThat(ephemeral.managementPort()).isZero();
  }

  @Test
  void anExternalKafkaRequiresTheAdminTokenAndTheSecretsKey() {
    Config config = Config.fromEnv(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"));
    assertThatThrownBy(() -> Credentials.resolve(config))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ADMIN_TOKEN")
        .hasMessageContaining("SECRETS_KEY");
  }

  @Test
  void theEmbeddedDefaultGeneratesCredentialsOnceAndKeepsThem(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    Config config = Config.fromEnv(Map.of("DATA_DIR", dir.toString()));
    Credentials first = Credentials.resolve(config);
    Credentials second = Credentials.resolve(config);
    assertThat(first.generatedAdminToken()).isTrue();
    assertThat(second.generatedAdminToken()).isFalse();
    assertThat(second.adminToken()).isEqualTo(first.adminToken());
    assertThat(second.secretsKey()).isEqualTo(first.secretsKey());
    assertThat(java.util.Base64.getDecoder().decode(first.secretsKey())).hasSize(32);
  }
}
