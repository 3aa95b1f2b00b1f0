package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.ServiceProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's second start from the same directory: it is refused as a configuration error before its broker writes
 * anything, and the running instance keeps working and still stops on SIGTERM (it once hung for good, its metadata log
 * overwritten by the refused one's controller).
 */
class SharedDataDirIT {
  @TempDir Path dataDir;

  @Test
  void refusesASecondInstanceOnTheSameDataDirAndTheFirstStillStops() throws Exception {
    int[] ports = ServiceProcess.freePorts(6);
    Map<String, String> firstEnv = env(ports[0], ports[1], ports[2]);

    try (ServiceProcess first = ServiceProcess.start("shared-data-dir-first", firstEnv)) {
      try (ServiceProcess second = ServiceProcess.launch("shared-data-dir-second", env(ports[3], ports[4], ports[5]))) {
        await().atMost(Duration.ofSeconds(60)).until(() -> !second.isAlive());
        assertThat(second.terminate(Duration.ofSeconds(5))).as("exit code of a configuration error").isEqualTo(2);
        assertThat(String.join("\n", second.output()))
            .contains("DATA_DIR " + dataDir + " is in use by another running dispatcher")
            .contains("give this one its own DATA_DIR, HTTP_PORT, MANAGEMENT_PORT and EMBEDDED_KAFKA_PORT")
            .doesNotContain("Failed to acquire lock");
      }

      assertThat(first.status("/health/ready")).isEqualTo(200);
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:" + ports[0]))) {
        assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).hasSize(1);
      }
      assertThat(first.terminate(Duration.ofSeconds(60))).as("exit code after SIGTERM").isZero();
      assertThat(String.join("\n", first.output())).contains("Embedded Kafka broker stopped");
    }
  }

  private Map<String, String> env(int kafkaPort, int httpPort, int managementPort) {
    return Map.of(
        "DATA_DIR", dataDir.toString(),
        "EMBEDDED_KAFKA_PORT", String.valueOf(kafkaPort),
        "HTTP_PORT", String.valueOf(httpPort),
        "MANAGEMENT_PORT", String.valueOf(managementPort));
  }
}
