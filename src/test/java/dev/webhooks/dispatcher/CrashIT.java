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
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * At least once, for real: the service runs as its own JVM and is killed with SIGKILL three times in one run while
 * deliveries are in flight, and started again each time; and once while failed deliveries wait in the retry topic. The
 * books at the end: every event delivered, every poison record dead-lettered, duplicates only with their event's one
 * webhook-id.
 */
class CrashIT {
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

  @Test
  void theDispatcherKilledThreeTimesUnderLoadLosesNothing() throws Exception {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.answerByDefault(Response.delayed(RECEIVER_LATENCY, 200));
      Map<String, String> env = processEnvironment(TestKafka.bootstrapServers(), TestKafka.uniqueName("kill3"));
      String account = "kill-account";
      List<String> events = new ArrayList<>();
      List<String> poison = new ArrayList<>();
      int kills = 0;
      try (EventProducer producer = new EventProducer(TestKafka.bootstrapServers(), env.get("EVENTS_TOPICS"))) {
        ServiceProcess service = ServiceProcess.start("kill3-0", env);
        try {
          install(env, account, receiver.url("/kill3"));
          events.addAll(producer.publishContent(account, 3000));
          poison.addAll(publishPoison(producer, account, 200));
          for (kills = 1; kills <= 3; kills++) {
            int target = events.size() * kills / 4;
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> receiver.requests().size() >= target);
            service.kill();
            System.out.printf("CrashIT: SIGKILL %d after %d POSTs%n", kills, receiver.requests().size());
            service = ServiceProcess.start("kill3-" + kills, env);
          }
          Set<String> all = new HashSet<>(events);
          await().atMost(Duration.ofSeconds(120)).until(() -> Ledger.deliveredEvents(receiver.requests()).containsAll(all));
          awaitPoisonDeadLettered(TestKafka.bootstrapServers(), env.get("DEAD_LETTER_TOPIC"), poison);
          assertThat(service.terminate(Duration.ofSeconds(30))).isZero();
        } finally {
          service.close();
        }
      }
      List<String> produced = new ArrayList<>(events);
      produced.addAll(poison);
      Ledger.Figures figures = Ledger.check("dispatcher SIGKILL x3", produced, receiver.requests(),
          TestKafka.readAll(env.get("DEAD_LETTER_TOPIC")), Duration.ofSeconds(5));
      assertThat(figures.delivered()).isEqualTo(events.size());
      assertThat(figures.deadLettered()).isEqualTo(poison.size());
    }
  }

  /**
   * Deliveries that failed are in the retry topic, their events already committed, when the service is killed: the next
   * instance takes them from the retry topic, since nothing else remembers them, and delivers every one under its id.
   */
  @Test
  void retriesWaitingInTheRetryTopicSurviveAKill() throws Exception {
    try (TestReceiver receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost())) {
      receiver.answerByDefault(Response.status(503));
      Map<String, String> env = processEnvironment(TestKafka.bootstrapServers(), TestKafka.uniqueName("killretry"));
      env.put("RETRY_BASE_DELAY_MS", "4000"); // long enough for the kill to land while the retries wait
      String account = "kill-retry-account";
      List<String> events;
      try (EventProducer producer = new EventProducer(TestKafka.bootstrapServers(), env.get("EVENTS_TOPICS"))) {
        ServiceProcess service = ServiceProcess.start("killretry-0", env);
        try {
          install(env, account, receiver.url("/killretry"));
          events = producer.publishContent(account, 500);
          Set<String> all = new HashSet<>(events);
          await().atMost(Duration.ofSeconds(60)).until(() -> Ledger.deliveredEvents(receiver.requests()).containsAll(all)
              && eventsAllCommitted(env));
          service.kill();
          System.out.printf("CrashIT: SIGKILL with the retries of %d events waiting, after %d POSTs%n", all.size(),
              receiver.requests().size());
          receiver.answerByDefault(Response.ok());
          service = ServiceProcess.start("killretry-1", env);
          await().atMost(Duration.ofSeconds(60)).until(() -> receiver.requests().stream()
              .filter(r -> r.answeredOkWithin(Duration.ofSeconds(5)))
              .map(r -> Ledger.conversationOf(r.body().getBytes())).toList().containsAll(all));
          assertThat(service.terminate(Duration.ofSeconds(30))).isZero();
        } finally {
          service.close();
        }
      }
      Ledger.Figures figures = Ledger.check("retries across SIGKILL", events, receiver.requests(),
          TestKafka.readAll(env.get("DEAD_LETTER_TOPIC")), Duration.ofSeconds(5));
      assertThat(figures.delivered()).isEqualTo(events.size());
      assertThat(figures.deadLettered()).isZero();
    }
  }

  /** Whether the group has committed every record of the events topic: nothing is left to redeliver from there. */
  private static boolean eventsAllCommitted(Map<String, String> env) throws Exception {
    String topic = env.get("EVENTS_TOPICS");
    try (Admin admin = TestKafka.admin()) {
      Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(env.get("CONSUMER_GROUP"))
          .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < Integer.parseInt(env.get("TOPIC_PARTITIONS")); p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      return admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).entrySet().stream().allMatch(end -> {
        OffsetAndMetadata at = committed.get(end.getKey());
        return end.getValue().offset() == 0 || (at != null && at.offset() >= end.getValue().offset());
      });
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

  /** Records that cannot be routed (unknown type) but name a conversation, so the books can find their dead letter. */
  private static List<String> publishPoison(EventProducer producer, String account, int count) {
    List<String> conversations = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String conversation = "poison-" + UUID.randomUUID();
      conversations.add(conversation);
      producer.send(account, conversation,
          "{\"type\":\"ms.Other\",\"body\":{\"changes\":[{\"conversationId\":\"" + conversation + "\"}]}}");
    }
    producer.flush();
    return conversations;
  }

  private static void awaitPoisonDeadLettered(String bootstrap, String topic, List<String> poison) {
    Set<String> expected = new HashSet<>(poison);
    await().atMost(Duration.ofSeconds(60)).until(() -> TestKafka.readAll(topic).stream()
        .map(r -> Ledger.conversationOf(r.value())).toList().containsAll(expected));
  }

}
