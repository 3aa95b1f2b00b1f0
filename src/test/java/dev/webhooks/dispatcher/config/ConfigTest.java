package dev.webhooks.dispatcher.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
  private static final String JAAS =
      "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"dispatcher\" password=\"secret\";";

  @Test
  void retriesAndDeadLettersMayBeAsLargeAsAnEventWithItsHeadersAndNeverUnderKafkasDefault() {
    assertThat(Config.fromEnv(Map.of()).maxRecordBytes()).isEqualTo(1024 * 1024);
    assertThat(Config.fromEnv(Map.of("MAX_EVENT_BYTES", String.valueOf(3 * 1024 * 1024))).maxRecordBytes())
        .isEqualTo(3 * 1024 * 1024 + 64 * 1024);
  }

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
    assertThat(config.httpIdleTimeout()).isEqualTo(Duration.ofSeconds(75));
    assertThat(config.httpRequestTimeout()).isEqualTo(Duration.ofSeconds(10));
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
  void theTimeoutsCannotBeTurnedOff() {
    assertThatThrownBy(() -> Config.fromEnv(Map.of("HTTP_IDLE_TIMEOUT_MS", "0", "HTTP_REQUEST_TIMEOUT_MS", "0",
            "DELIVERY_CONNECT_TIMEOUT_MS", "0", "DELIVERY_RESPONSE_TIMEOUT_MS", "0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("HTTP_IDLE_TIMEOUT_MS must be between 1 and")
        .hasMessageContaining("HTTP_REQUEST_TIMEOUT_MS must be between 1 and")
        .hasMessageContaining("DELIVERY_CONNECT_TIMEOUT_MS must be between 1 and")
        .hasMessageContaining("DELIVERY_RESPONSE_TIMEOUT_MS must be between 1 and");
  }

  @Test
  void theReplicationFactorOfCreatedTopicsIsTheBrokersUnlessGivenForAnExternalCluster() {
    assertThat(Config.fromEnv(Map.of()).topicReplicationFactor()).isEmpty();
    assertThat(Config.fromEnv(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "TOPIC_REPLICATION_FACTOR", "3"))
        .topicReplicationFactor()).contains((short) 3);
    assertThatThrownBy(() -> Config.fromEnv(Map.of("TOPIC_REPLICATION_FACTOR", "3")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TOPIC_REPLICATION_FACTOR needs KAFKA_BOOTSTRAP_SERVERS");
    assertThatThrownBy(() -> Config.fromEnv(
            Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "TOPIC_REPLICATION_FACTOR", "0")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TOPIC_REPLICATION_FACTOR must be between 1 and 32767, was 0");
  }

  @Test
  void theEventsTopicsCannotBeTopicsTheServiceWritesItself() {
    assertThatThrownBy(() -> Config.fromEnv(Map.of("EVENTS_TOPICS", "messaging-events, webhook-dead-letters")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("EVENTS_TOPICS must not name webhook-dead-letters, a topic the service writes itself");
    assertThatThrownBy(() -> Config.fromEnv(Map.of("EVENTS_TOPICS", "events,retries-3,installs",
            "RETRY_TOPIC", "retries", "INSTALLATIONS_TOPIC", "installs")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("must not name retries-3")
        .hasMessageContaining("must not name installs");
    assertThatThrownBy(() -> Config.fromEnv(Map.of("DEAD_LETTER_TOPIC", "webhook-retries-2")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("DEAD_LETTER_TOPIC (webhook-retries-2), the retry topics (webhook-retries-1 to -5) and"
            + " INSTALLATIONS_TOPIC (app-installations) must be different topics");
    assertThat(Config.fromEnv(Map.of("EVENTS_TOPICS", "webhook-retries")).eventsTopics()) // the prefix is no topic
        .containsExactly("webhook-retries");
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
  void kafkaClientVariablesBecomeClientSettingsByName() {
    Config config = Config.fromEnv(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "kafka:9093",
        "KAFKA_CLIENT_SECURITY_PROTOCOL", "SASL_SSL",
        "KAFKA_CLIENT_SSL_TRUSTSTORE_TYPE", "PEM",
        "KAFKA_CLIENT_SSL_TRUSTSTORE_LOCATION", "/etc/kafka-ca/ca.crt",
        "KAFKA_CLIENT_SASL_MECHANISM", "SCRAM-SHA-512",
        "KAFKA_CLIENT_SASL_JAAS_CONFIG", JAAS));
    assertThat(config.kafkaClientSettings()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "security.protocol", "SASL_SSL",
        "ssl.truststore.type", "PEM",
        "ssl.truststore.location", "/etc/kafka-ca/ca.crt",
        "sasl.mechanism", "SCRAM-SHA-512",
        "sasl.jaas.config", JAAS));
    assertThat(Config.fromEnv(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")).kafkaClientSettings()).isEmpty();
  }

  @Test
  void settingsTheServiceMakesItselfAreRefusedNotOverridden() {
    List<String> variables = List.of("KAFKA_CLIENT_BOOTSTRAP_SERVERS", "KAFKA_CLIENT_GROUP_ID",
        "KAFKA_CLIENT_CLIENT_ID", "KAFKA_CLIENT_KEY_DESERIALIZER", "KAFKA_CLIENT_VALUE_SERIALIZER",
        "KAFKA_CLIENT_ENABLE_AUTO_COMMIT", "KAFKA_CLIENT_AUTO_OFFSET_RESET", "KAFKA_CLIENT_ACKS",
        "KAFKA_CLIENT_ENABLE_IDEMPOTENCE", "KAFKA_CLIENT_REQUEST_TIMEOUT_MS", "KAFKA_CLIENT_DEFAULT_API_TIMEOUT_MS",
        "KAFKA_CLIENT_MAX_POLL_INTERVAL_MS");
    Map<String, String> env = new HashMap<>(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9093"));
    variables.forEach(variable -> env.put(variable, "x"));

    assertThatThrownBy(() -> Config.fromEnv(env))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("KAFKA_CLIENT_BOOTSTRAP_SERVERS: the bootstrap servers are KAFKA_BOOTSTRAP_SERVERS")
        .hasMessageContaining("KAFKA_CLIENT_GROUP_ID: group.id is set by the service itself and cannot be overridden")
        .hasMessageContaining("KAFKA_CLIENT_ACKS: acks is set by the service itself")
        .hasMessageContaining("KAFKA_CLIENT_MAX_POLL_INTERVAL_MS: max.poll.interval.ms is set by the service itself")
        .satisfies(e -> assertThat(variables).allSatisfy(variable -> assertThat(e.getMessage()).contains(variable)));
  }

  @Test
  void kafkaClientVariablesMustNameASettingOfEveryKafkaClient() {
    assertThatThrownBy(() -> Config.fromEnv(Map.of(
            "KAFKA_BOOTSTRAP_SERVERS", "kafka:9093",
            "KAFKA_CLIENT_SSL_TRUSTSTORE_LOCATON", "/etc/kafka-ca/ca.crt",
            "KAFKA_CLIENT_ISOLATION_LEVEL", "read_committed",
            "KAFKA_CLIENT_COMPRESSION_TYPE", "zstd")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "KAFKA_CLIENT_SSL_TRUSTSTORE_LOCATON: 'ssl.truststore.locaton' is not a Kafka client setting")
        .hasMessageContaining("KAFKA_CLIENT_ISOLATION_LEVEL: isolation.level is not a setting of every Kafka client")
        .hasMessageContaining("KAFKA_CLIENT_COMPRESSION_TYPE: compression.type is not a setting of every Kafka client");
  }

  @Test
  void theEmbeddedBrokerTakesNoKafkaClientSettings() {
    assertThatThrownBy(() -> Config.fromEnv(Map.of("KAFKA_CLIENT_SECURITY_PROTOCOL", "SSL")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("KAFKA_CLIENT_* settings need KAFKA_BOOTSTRAP_SERVERS");
  }

  @Test
  void aRefusedKafkaClientSettingIsNamedWithoutItsValue() {
    String secret = "s3cr3t-in-the-value";
    assertThatThrownBy(() -> Config.fromEnv(Map.of(
            "KAFKA_CLIENT_SASL_JAAS_CONFIG", JAAS.replace("secret", secret),
            "KAFKA_CLIENT_SASL_JAAS_CONFIGS", secret)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("KAFKA_CLIENT_SASL_JAAS_CONFIGS")
        .hasMessageNotContaining(secret);
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
  void theEmbeddedDefaultGeneratesCredentialsOnceAndKeepsThem(@TempDir Path dir)
      throws Exception {
    Config config = Config.fromEnv(Map.of("DATA_DIR", dir.toString()));
    Credentials first = Credentials.resolve(config);
    Credentials second = Credentials.resolve(config);
    assertThat(first.generatedAdminToken()).isTrue();
    assertThat(second.generatedAdminToken()).isFalse();
    assertThat(second.adminToken()).isEqualTo(first.adminToken());
    assertThat(second.secretsKey()).isEqualTo(first.secretsKey());
    assertThat(Base64.getDecoder().decode(first.secretsKey())).hasSize(32);
    for (String file : List.of("admin-token", "secrets-key")) {
      assertThat(permissions(dir.resolve(file))).as(file).isEqualTo("rw-------");
    }
  }

  @Test
  void aSecretFileOthersCouldReadIsMadeOwnerOnlyBeforeItIsUsed(@TempDir Path dir)
      throws Exception {
    Path token = dir.resolve("admin-token");
    Files.writeString(token, "an-operators-token\n");
    Files.setPosixFilePermissions(token,
        PosixFilePermissions.fromString("rw-r--r--"));

    Credentials credentials = Credentials.resolve(Config.fromEnv(Map.of("DATA_DIR", dir.toString())));

    assertThat(credentials.adminToken()).isEqualTo("an-operators-token");
    assertThat(permissions(token)).isEqualTo("rw-------");
  }

  private static String permissions(Path file) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }
}
