package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.install.SecretCipher;
import dev.webhooks.dispatcher.testing.ServiceProcess;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A SIGTERM can come while the service still starts (Kubernetes sends one to a starting pod during a rollout): it must
 * end the start cleanly, exit 0, not kill the JVM halfway as the default handler does (exit 143).
 */
class StopWhileStartingIT {

  @Test
  void aSigtermWhileTheStartWaitsForKafkaStopsWhatStartedAndExitsZero() throws Exception {
    int[] ports = ServiceProcess.freePorts(3);
    Map<String, String> env = new HashMap<>();
    env.put("KAFKA_BOOTSTRAP_SERVERS", "localhost:" + ports[2]); // nothing listens there: the start waits
    env.put("HTTP_PORT", String.valueOf(ports[0]));
    env.put("MANAGEMENT_PORT", String.valueOf(ports[1]));
    env.put("ADMIN_TOKEN", "stop-while-starting-token");
    env.put("SECRETS_KEY", SecretCipher.generateKey());
    env.put("WARMUP_MS", "100");
    try (ServiceProcess service = ServiceProcess.launch("stop-while-starting", env)) {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .failFast("the service exited", () -> !service.isAlive())
          .until(() -> service.status("/health/live") == 200); // started in part: management port up, Kafka awaited

      assertThat(service.terminate(Duration.ofSeconds(30))).as("exit code after SIGTERM while starting").isZero();
      assertThat(service.output()).anySatisfy(line -> assertThat(line).contains("Stopped while starting"));
      assertThat(service.output()).noneSatisfy(line -> assertThat(line).contains("Webhook dispatcher is running"));
    }
  }
}
