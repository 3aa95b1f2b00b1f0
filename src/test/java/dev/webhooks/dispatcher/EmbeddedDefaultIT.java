package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.testing.InstallClient;
import dev.webhooks.dispatcher.testing.ServiceProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar with nothing configured but its ports and data directory: it runs its own broker, creates the topics, makes
 * an admin token, says where everything is, stops cleanly on SIGTERM and finds its installations again on restart.
 */
class EmbeddedDefaultIT {
  @TempDir Path dataDir;

  @Test
  void runsOnItsOwnBrokerAndKeepsItsStateAcrossARestart() throws Exception {
    int[] ports = ServiceProcess.freePorts(3);
    int kafkaPort = ports[0];
    Map<String, String> env = Map.of(
        "DATA_DIR", dataDir.resolve(".").toString(), // like the default ./data: a dot segment the banner drops
        "EMBEDDED_KAFKA_PORT", String.valueOf(kafkaPort),
        "HTTP_PORT", String.valueOf(ports[1]),
        "MANAGEMENT_PORT", String.valueOf(ports[2]));
    String manifest = """
        {"client_name": "embedded-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "https://hooks.example.com/content"}}}}
        """;

    String token;
    try (ServiceProcess first = ServiceProcess.start("embedded-it-first", env)) {
      token = Files.readString(dataDir.resolve("admin-token")).trim();
      assertThat(token).hasSizeGreaterThanOrEqualTo(32);
      String banner = String.join("\n", first.output());
      assertThat(banner)
          .contains("    Kafka        localhost:" + kafkaPort + "  (embedded, data in " + dataDir.resolve("kafka") + ")\n")
          .contains("    Retries      webhook-retries-1 .. webhook-retries-5\n")
          .contains("Admin token  " + token + "  (generated; kept in " + dataDir.resolve("admin-token")
              + " unless ADMIN_TOKEN is set)\n")
          .contains("http://localhost:" + env.get("HTTP_PORT") + "/api/account/{accountId}/configuration/app-install")
          .contains("http://localhost:" + env.get("MANAGEMENT_PORT") + "/health/ready");
      new InstallClient(Integer.parseInt(env.get("HTTP_PORT")), token).install("acc1", manifest);
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + kafkaPort))) {
        assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS))
            .contains("messaging-events", "webhook-dead-letters", "webhook-retries-1", "webhook-retries-5",
                "app-installations");
        ConfigResource installations = new ConfigResource(ConfigResource.Type.TOPIC, "app-installations");
        Config config = admin.describeConfigs(List.of(installations)).all().get(10, TimeUnit.SECONDS).get(installations);
        assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
      }
      assertThat(first.terminate(Duration.ofSeconds(60))).as("exit code after SIGTERM").isZero();
    }

    try (ServiceProcess second = ServiceProcess.start("embedded-it-second", env)) {
      assertThat(Files.readString(dataDir.resolve("admin-token")).trim()).isEqualTo(token);
      assertThat(String.join("\n", second.output())).doesNotContain("(generated");
      JsonNode apps = new InstallClient(Integer.parseInt(env.get("HTTP_PORT")), token).list("acc1");
      assertThat(apps).hasSize(1);
      assertThat(apps.get(0).get("client_name").textValue()).isEqualTo("embedded-it");
      assertThat(second.terminate(Duration.ofSeconds(60))).isZero();
    }
  }

  @Test
  void aBrokenCredentialFileIsAConfigurationErrorNamingItBeforeAnythingStarts() throws Exception {
    Map<String, String> env = Map.of(
        "DATA_DIR", dataDir.toString(),
        "HTTP_PORT", "0",
        "MANAGEMENT_PORT", String.valueOf(ServiceProcess.freePort()));
    Path token = Files.writeString(dataDir.resolve("admin-token"), "");
    try (ServiceProcess emptyToken = ServiceProcess.launch("embedded-it-empty-token", env)) {
      assertThat(emptyToken.awaitExit(Duration.ofSeconds(60))).as("exit code of a configuration error").isEqualTo(2);
      assertThat(String.join("\n", emptyToken.output()))
          .contains(token + " is empty; delete it to have a new token generated, or set ADMIN_TOKEN");
    }

    Files.writeString(token, "an-operators-token");
    Path key = Files.writeString(dataDir.resolve("secrets-key"), "garbage");
    try (ServiceProcess badKey = ServiceProcess.launch("embedded-it-bad-key", env)) {
      assertThat(badKey.awaitExit(Duration.ofSeconds(60))).isEqualTo(2);
      assertThat(String.join("\n", badKey.output()))
          .contains(key + " is not Base64 of 32 bytes")
          .contains("restore the key the installations were written with")
          .doesNotContain("SECRETS_KEY must be");
    }
    assertThat(dataDir.resolve("kafka")).as("the broker never started").doesNotExist();
  }
}
