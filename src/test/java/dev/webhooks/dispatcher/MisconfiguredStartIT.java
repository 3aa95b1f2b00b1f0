package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.install.SecretCipher;
import dev.webhooks.dispatcher.testing.ServiceProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings read outside {@code Config} still stop the start as a configuration error (exit 2, each named), and before
 * any wait on Kafka: an operator who mistyped one learns it at once, not once Kafka answers or never.
 */
class MisconfiguredStartIT {
  @TempDir Path dir;

  @Test
  void mistypedLoggingSettingsAreRefusedNotTakenQuietlyAndNamedWithTheOthers() throws Exception {
    Map<String, String> env = unreachableKafka();
    env.put("LOG_FORMAT", "JSON");
    env.put("LOG_LEVEL", "verbose");
    env.put("RETRY_MULTIPLIER", "fast");
    try (ServiceProcess service = ServiceProcess.launch("misconfigured-logging", env)) {
      assertThat(service.awaitExit(Duration.ofSeconds(60))).as("exit code of a configuration error").isEqualTo(2);
      assertThat(String.join("\n", service.output()))
          .contains("LOG_FORMAT must be text or json (lower case), was 'JSON'")
          .contains("LOG_LEVEL must be one of OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE, ALL, was 'verbose'")
          .contains("RETRY_MULTIPLIER must be a number, was 'fast'");
    }
  }

  @Test
  void aMissingTrustedCaFileIsReportedWithoutWaitingForKafka() throws Exception {
    Map<String, String> env = unreachableKafka();
    Path missing = dir.resolve("receivers-ca.pem");
    env.put("DELIVERY_TRUSTED_CA_PEM", missing.toString());
    try (ServiceProcess service = ServiceProcess.launch("misconfigured-trust", env)) {
      // without Kafka the start would wait for good: only a check made before that wait ends it
      assertThat(service.awaitExit(Duration.ofSeconds(60))).as("exit code of a configuration error").isEqualTo(2);
      assertThat(String.join("\n", service.output()))
          .contains("DELIVERY_TRUSTED_CA_PEM " + missing + " cannot be read");
    }
  }

  private static Map<String, String> unreachableKafka() {
    int[] ports = ServiceProcess.freePorts(3);
    Map<String, String> env = new HashMap<>();
    env.put("KAFKA_BOOTSTRAP_SERVERS", "localhost:" + ports[2]); // nothing listens there
    env.put("HTTP_PORT", String.valueOf(ports[0]));
    env.put("MANAGEMENT_PORT", String.valueOf(ports[1]));
    env.put("ADMIN_TOKEN", "misconfigured-start-token");
    env.put("SECRETS_KEY", SecretCipher.generateKey());
    env.put("WARMUP_MS", "100");
    return env;
  }
}
