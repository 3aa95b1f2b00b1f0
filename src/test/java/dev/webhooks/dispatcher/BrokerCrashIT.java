package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.install.SecretCipher;
import dev.webhooks.dispatcher.testing.EventProducer;
import dev.webhooks.dispatcher.testing.InstallClient;
import dev.webhooks.dispatcher.testing.Ledger;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.ServiceProcess;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The broker unreachable at start-up, then SIGKILL of the broker under load, the broker and the dispatcher each a JVM
 * of its own. The books at the end: every event delivered, duplicates only with their event's one webhook-id.
 */
class BrokerCrashIT {
  private static final Duration RECEIVER_LATENCY = Duration.ofMillis(5);
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /**
   * The broker is the product jar with no KAFKA_BOOTSTRAP_SERVERS (its embedded broker on a fixed port and data dir);
   * the dispatcher under test is a second jar using it. The broker is killed with deliveries in flight: the dispatcher
   * stops being ready, and once the broker is back on the same data it carries on and loses nothing.
   */
  @Test
  void theBrokerUnreachableAtStartThenKilledUnderLoadLosesNothing() throws Exception {
    Path data = Files.createTempDirectory("kill-broker");
    Map<String, String> brokerEnv = new HashMap<>();
    brokerEnv.put("DATA_DIR", data.toString());
    int[] ports = ServiceProcess.freePorts(3);
    brokerEnv.put("EMBEDDED_KAFKA_PORT", String.valueOf(ports[0]));
    brokerEnv.put("HTTP_PORT", String.valueOf(ports[1]));
    brokerEnv.put("MANAGEMENT_PORT", String.valueOf(ports[2]));
    brokerEnv.put("ADMIN_TOKEN", RunningService.ADMIN_TOKEN);
    brokerEnv.put("EVENTS_TOPICS", "broker-host-unused");
    String bootstrap = "localhost:" + brokerEnv.get("EMBEDDED_KAFKA_PORT");

    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.answerByDefault(Response.delayed(RECEIVER_LATENCY, 200));
      Map<String, String> env = processEnvironment(bootstrap, "killbroker");
      List<String> events = new ArrayList<>();
      ServiceProcess broker = null;
      try (ServiceProcess dispatcher = ServiceProcess.launch("kill-broker-dispatcher", env)) {
        // started before its broker: live, not ready, says why in the log, and does not exit
        await().atMost(Duration.ofSeconds(30)).until(() -> dispatcher.output().stream().anyMatch(line ->
            line.contains("Kafka at " + bootstrap + " (KAFKA_BOOTSTRAP_SERVERS) cannot be reached")));
        assertThat(dispatcher.status("/health/live")).isEqualTo(200);
        assertThat(dispatcher.status("/health/ready")).isEqualTo(503);
        assertThat(dispatcher.isAlive()).isTrue();
        broker = ServiceProcess.start("kill-broker-host-0", brokerEnv);
        dispatcher.awaitReady();
        System.out.println("BrokerCrashIT: started before its broker, waited not ready, ready once the broker came up");

        install(env, "broker-account", receiver.url("/killbroker"));
        try (EventProducer producer = new EventProducer(bootstrap, env.get("EVENTS_TOPICS"))) {
          events.addAll(producer.publishContent("broker-account", 2000));
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
            .until(() -> receiver.requests().size() >= 500);
        broker.kill();
        int atKill = receiver.requests().size();
        await().atMost(Duration.ofSeconds(30)).until(() -> readiness(env) != 200);
        System.out.printf("BrokerCrashIT: broker SIGKILL after %d POSTs; dispatcher not ready%n", atKill);

        broker = ServiceProcess.start("kill-broker-host-1", brokerEnv);
        await().atMost(Duration.ofSeconds(60)).until(() -> readiness(env) == 200);
        try (EventProducer producer = new EventProducer(bootstrap, env.get("EVENTS_TOPICS"))) {
          events.addAll(producer.publishContent("broker-account", 1000));
        }
        Set<String> all = new HashSet<>(events);
        await().atMost(Duration.ofSeconds(120)).until(() -> Ledger.deliveredEvents(receiver.requests()).containsAll(all));
        assertThat(dispatcher.terminate(Duration.ofSeconds(30))).isZero();
      } finally {
        if (broker != null) {
          broker.kill(); // waits for the exit, so its data can go
        }
        deleteRecursively(data);
      }
      Ledger.Figures figures = Ledger.check("broker SIGKILL and restart", events, receiver.requests(), List.of(),
          Duration.ofSeconds(5));
      assertThat(figures.delivered()).isEqualTo(events.size());
    }
  }

  private static Map<String, String> processEnvironment(String bootstrap, String prefix) {
    Map<String, String> env = RunningService.environment(prefix);
    env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
    env.put("SECRETS_KEY", SecretCipher.generateKey());
    int[] ports = ServiceProcess.freePorts(2);
    env.put("HTTP_PORT", String.valueOf(ports[0]));
    env.put("MANAGEMENT_PORT", String.valueOf(ports[1]));
    return env;
  }

  private static void install(Map<String, String> env, String account, String endpoint) {
    new InstallClient(Integer.parseInt(env.get("HTTP_PORT")), RunningService.ADMIN_TOKEN).install(account, """
        {"client_name": "kill-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": 5}}}}
        """.formatted(endpoint));
  }

  private static int readiness(Map<String, String> env) {
    try {
      return HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://localhost:" + env.get("MANAGEMENT_PORT") + "/health/ready")).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static void deleteRecursively(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
