package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.InstallClient;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.ServiceProcess;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * At least once, for real: the service runs as its own JVM, is killed with SIGKILL while deliveries are in flight,
 * and is started again. Every event must arrive; the ones delivered twice must carry the same {@code webhook-id}.
 */
class CrashIT {
  private static final int EVENTS = 5000;
  private static final int CONVERSATIONS = 50;
  /** A little receiver latency keeps thousands of deliveries in flight when the kill lands. */
  private static final Duration RECEIVER_LATENCY = Duration.ofMillis(10);

  @Test
  void aKilledServiceLosesNothingAndRedeliversWithTheSameIds() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      for (int i = 0; i < EVENTS * 2; i++) {
        receiver.enqueue(Response.delayed(RECEIVER_LATENCY, 200));
      }
      Map<String, String> env = RunningService.environment(TestKafka.uniqueName("crash"));
      env.put("HTTP_PORT", String.valueOf(ServiceProcess.freePort()));
      env.put("MANAGEMENT_PORT", String.valueOf(ServiceProcess.freePort()));
      String account = "crash-account";
      List<String> bodies = new ArrayList<>();
      for (int i = 0; i < EVENTS; i++) {
        bodies.add(Events.content("conversation-" + (i % CONVERSATIONS), "event " + i));
      }

      long started;
      int deliveredAtKill;
      double killedAfter;
      try (ServiceProcess first = ServiceProcess.start("crash-it-first", env)) {
        new InstallClient(Integer.parseInt(env.get("HTTP_PORT")), RunningService.ADMIN_TOKEN).install(account, """
            {"client_name": "crash-it", "capabilities": {"webhooks": {
              "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": 2}}}}
            """.formatted(receiver.url("/crash")));
        started = System.nanoTime();
        publish(env.get("EVENTS_TOPICS"), account, bodies);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
            .until(() -> receiver.requests().size() >= EVENTS / 5);
        first.kill();
        deliveredAtKill = distinctBodies(receiver.requests()).size();
        killedAfter = (System.nanoTime() - started) / 1e9;
      }
      assertThat(deliveredAtKill).as("the kill must land while deliveries are still in flight").isLessThan(EVENTS);

      try (ServiceProcess second = ServiceProcess.start("crash-it-second", env)) {
        await().atMost(Duration.ofSeconds(120))
            .until(() -> distinctBodies(receiver.requests()).size() == EVENTS);
        double seconds = (System.nanoTime() - started) / 1e9;
        assertThat(second.terminate(Duration.ofSeconds(30))).isEqualTo(0);

        List<ReceivedRequest> requests = receiver.requests();
        assertThat(distinctBodies(requests)).containsExactlyInAnyOrderElementsOf(bodies);
        Map<String, Set<String>> idsByBody = requests.stream().collect(Collectors.groupingBy(
            r -> r.body().toString(), Collectors.mapping(r -> r.header("webhook-id"), Collectors.toSet())));
        assertThat(idsByBody.values()).as("every event keeps one webhook-id across redelivery").allSatisfy(
            ids -> assertThat(ids).hasSize(1));
        assertThat(new HashSet<>(idsByBody.values())).hasSize(EVENTS);
        System.out.printf(
            "CrashIT: %d events; %d delivered in %.1f s before SIGKILL; all delivered %.1f s after the first publish, "
                + "restart included; %d POSTs in all, %d duplicates (each with its event's one webhook-id), lost 0; "
                + "receiver latency %d ms%n",
            EVENTS, deliveredAtKill, killedAfter, seconds, requests.size(), requests.size() - EVENTS,
            RECEIVER_LATENCY.toMillis());
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static Set<String> distinctBodies(List<ReceivedRequest> requests) {
    Set<String> bodies = new HashSet<>();
    requests.forEach(r -> bodies.add(r.body().toString()));
    return bodies;
  }

  private static void publish(String topic, String account, List<String> bodies) throws Exception {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
    config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config)) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < bodies.size(); i++) {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic,
            ("conversation-" + (i % CONVERSATIONS)).getBytes(StandardCharsets.UTF_8),
            bodies.get(i).getBytes(StandardCharsets.UTF_8));
        record.headers().add("account-id", account.getBytes(StandardCharsets.UTF_8));
        sent.add(producer.send(record));
      }
      for (Future<RecordMetadata> result : sent) {
        result.get(30, TimeUnit.SECONDS);
      }
    }
  }
}
