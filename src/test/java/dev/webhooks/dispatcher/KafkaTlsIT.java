package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.cli.PublishCommand;
import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.KafkaConnection;
import dev.webhooks.dispatcher.testing.CapturedLogs;
import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.ServiceProcess;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kafka that takes TLS connections only, with a certificate from a CA made here and trusted nowhere else: with
 * {@code KAFKA_CLIENT_*} settings that trust that CA the service becomes ready and every client of it works (the
 * installations, the probe, the events consumer, the dead-letter producer), and so does the {@code publish} tool;
 * without them the service stays live and never becomes ready. A broker that also requires a client certificate takes
 * the service's from a keystore.
 */
class KafkaTlsIT {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static TestCertificates kafkaCa;
  private static KafkaClusterTestKit broker;
  private static Vertx vertx;
  private static TestReceiver receiver;

  @BeforeAll
  static void start() {
    kafkaCa = TestCertificates.create();
    broker = TestKafka.startTls(kafkaCa);
    vertx = Vertx.vertx();
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    vertx.close().await(10, TimeUnit.SECONDS);
    broker.close();
  }

  @Test
  @Timeout(120) // without the settings reaching every client, the start would wait for Kafka for ever
  void withSettingsThatTrustTheBrokersCaTheServiceBecomesReadyAndDelivers() {
    Map<String, String> env = environmentOnTheTlsBroker("kafka-tls");
    env.putAll(tlsTrustingTheBrokersCa());

    try (RunningService service = RunningService.startWith(env)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> service.get("/health/ready").statusCode() == 200);
      deliversAnInstalledAppsEvent(service, "over TLS");
      service.publish(null, "conversation-2", Events.bytes(Events.content("conversation-2", "no account")));

      assertThat(service.awaitDeadLetters(r -> "missing-account".equals(RunningService.header(r, "reason")), 1))
          .hasSize(1);
      service.awaitAllCommitted();
    }
  }

  /**
   * A broker that takes only clients with a certificate from its CA: the service shows one from a PKCS#12 keystore
   * (as Strimzi gives a KafkaUser), with every client of it, and delivers.
   */
  @Test
  @Timeout(120)
  void withAClientCertificateTheServiceWorksWithABrokerThatRequiresOne() throws Exception {
    try (KafkaClusterTestKit mutual = TestKafka.startMutualTls(kafkaCa)) {
      Map<String, String> env = RunningService.environment(TestKafka.uniqueName("kafka-mtls"));
      env.put("KAFKA_BOOTSTRAP_SERVERS", mutual.bootstrapServers());
      env.putAll(tlsTrustingTheBrokersCa());
      env.put("KAFKA_CLIENT_SSL_KEYSTORE_TYPE", "PKCS12");
      env.put("KAFKA_CLIENT_SSL_KEYSTORE_LOCATION",
          kafkaCa.pkcs12(kafkaCa.leaf("webhook-dispatcher"), "keystore-password").toString());
      env.put("KAFKA_CLIENT_SSL_KEYSTORE_PASSWORD", "keystore-password");

      try (RunningService service = RunningService.startWith(env)) {
        await().atMost(Duration.ofSeconds(30)).until(() -> service.get("/health/ready").statusCode() == 200);
        deliversAnInstalledAppsEvent(service, "over mutual TLS");
        service.awaitEventsCommitted();
      }
    }
  }

  @Test
  void thePublishToolConnectsWithTheSameSettings(@TempDir Path dir) throws Exception {
    Map<String, String> env = new HashMap<>(tlsTrustingTheBrokersCa());
    env.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
    KafkaConnection kafka = new KafkaConnection(broker.bootstrapServers(), Config.kafkaClientSettings(env));
    String topic = TestKafka.uniqueName("publish-tls");
    try (Admin admin = Admin.create(kafka.clientConfig(Map.of("bootstrap.servers", kafka.bootstrapServers())))) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    Path event = Files.writeString(dir.resolve("event.json"), Events.content("conversation-3", "published over TLS"));
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int exit = PublishCommand.run(List.of("--account", "123", "--topic", topic, event.toString()), env,
        new PrintStream(OutputStream.nullOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(TestKafka.readAll(kafka, topic)).singleElement()
        .satisfies(record -> assertThat(record.value()).isEqualTo(Files.readAllBytes(event)));
  }

  @Test
  void withoutThemTheSameServiceStaysLiveAndNeverBecomesReady() throws Exception {
    Map<String, String> env = environmentOnTheTlsBroker("kafka-plain");
    int management = ServiceProcess.freePort();
    env.put("MANAGEMENT_PORT", String.valueOf(management));
    CompletableFuture<Service> started = new CompletableFuture<>();
    Thread starting = new Thread(() -> {
      try {
        started.complete(Service.start(Config.fromEnv(env)));
      } catch (RuntimeException e) {
        started.completeExceptionally(e);
      }
    }, "kafka-tls-it-start");

    try (CapturedLogs logs = CapturedLogs.capture()) {
      starting.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> logs.text()
          .contains("Kafka at " + broker.bootstrapServers() + " (KAFKA_BOOTSTRAP_SERVERS) cannot be reached"));
      assertThat(status(management, "/health/live")).isEqualTo(200);
      assertThat(status(management, "/health/ready")).isEqualTo(503);
      assertThat(started).isNotDone();
    } finally {
      starting.interrupt(); // the start gives up waiting for Kafka and stops what it started
      starting.join(Duration.ofSeconds(30).toMillis());
      started.thenAccept(Service::stop);
    }
  }

  /** An app installed through the service's API (a transaction) gets an event published through its connection. */
  private static void deliversAnInstalledAppsEvent(RunningService service, String message) {
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    service.install(account, """
        {"client_name": "kafka-tls-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s"}}}}
        """.formatted(receiver.url("/" + account)));
    String event = Events.content("conversation-1", message);

    service.publish(account, "conversation-1", Events.bytes(event));

    await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().stream()
        .anyMatch(r -> r.uri().equals("/" + account) && r.body().toString().equals(event)));
  }

  /** TLS to Kafka, trusting the CA of the broker's certificate (a PEM file), as KAFKA_CLIENT_* variables. */
  private static Map<String, String> tlsTrustingTheBrokersCa() {
    return Map.of(
        "KAFKA_CLIENT_SECURITY_PROTOCOL", "SSL",
        "KAFKA_CLIENT_SSL_TRUSTSTORE_TYPE", "PEM",
        "KAFKA_CLIENT_SSL_TRUSTSTORE_LOCATION", kafkaCa.caPem().toString());
  }

  /** The test defaults (fresh topics and group, any free ports, the receivers' CA trusted) on the TLS broker. */
  private static Map<String, String> environmentOnTheTlsBroker(String prefix) {
    Map<String, String> env = RunningService.environment(TestKafka.uniqueName(prefix));
    env.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
    return env;
  }

  private static int status(int port, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
