package dev.webhooks.dispatcher.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaConnectionTest {
  private static final KafkaConnection TLS = new KafkaConnection("kafka:9093", Map.of(
      "security.protocol", "SASL_SSL",
      "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required password=\"hunter2\";"));

  @Test
  void aClientGetsItsOwnSettingsAndTheConnectionSettings() {
    Map<String, Object> own = Map.of("bootstrap.servers", TLS.bootstrapServers(), "client.id", "webhook-probe");
    assertThat(TLS.clientConfig(own)).containsExactlyInAnyOrderEntriesOf(Map.of(
        "bootstrap.servers", "kafka:9093",
        "client.id", "webhook-probe",
        "security.protocol", "SASL_SSL",
        "sasl.jaas.config", TLS.settings().get("sasl.jaas.config")));
    assertThat(KafkaConnection.plain("localhost:9092").clientConfig(own)).isEqualTo(own);
  }

  @Test
  void aConnectionSettingTheClientSetsItselfFailsInsteadOfOverridingEither() {
    assertThatThrownBy(() -> TLS.clientConfig(Map.of("security.protocol", "PLAINTEXT")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("KAFKA_CLIENT_SECURITY_PROTOCOL");
  }

  @Test
  void itsTextNamesTheSettingsButNeverTheirValues() {
    assertThat(TLS.toString())
        .contains("kafka:9093", "security.protocol", "sasl.jaas.config")
        .doesNotContain("hunter2");
  }
}
