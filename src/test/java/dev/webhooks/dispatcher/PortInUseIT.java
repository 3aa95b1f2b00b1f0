package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestKafka;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * A port another process holds (a second dispatcher started by mistake) ends the start with a message that names the
 * port and the variable that sets it, before this instance consumes or commits anything, and its cleanup leaves no
 * stray failures on Vert.x's threads.
 */
class PortInUseIT {

  @Test
  void anApiPortTakenEndsTheStartNamingItBeforeAnyEventIsConsumed() throws Exception {
    Map<String, String> env = RunningService.environment(TestKafka.uniqueName("port-in-use"));
    String events = env.get("EVENTS_TOPICS");
    TestKafka.createTopic(events, Integer.parseInt(env.get("TOPIC_PARTITIONS")));
    publishOne(events); // a start that consumed would commit past it
    try (ServerSocket taken = new ServerSocket(0)) {
      env.put("HTTP_PORT", String.valueOf(taken.getLocalPort()));

      assertThatThrownBy(() -> RunningService.startWith(env))
          .isInstanceOf(Service.PortUnavailable.class)
          .hasMessage("HTTP_PORT " + taken.getLocalPort()
              + " is already in use (another dispatcher?); stop it or set HTTP_PORT");
    }

    String group = env.get("CONSUMER_GROUP");
    try (Admin admin = TestKafka.admin()) {
      assertThat(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS))
          .as("offsets committed by the group").isEmpty();
      assertThat(admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS)).map(ConsumerGroupListing::groupId)
          .as("the group never had a member").doesNotContain(group);
    }
  }

  @Test
  void aManagementPortTakenEndsTheStartNamingItWithNoStrayFailureOnAnyThread() throws Exception {
    Map<String, String> env = RunningService.environment(TestKafka.uniqueName("port-in-use"));
    env.put("WARMUP_MS", "2000"); // still warming up when the port is found taken: the cleanup must wait for it
    List<Throwable> uncaught = new CopyOnWriteArrayList<>();
    Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((thread, failure) -> uncaught.add(failure));
    try (ServerSocket taken = new ServerSocket(0)) {
      env.put("MANAGEMENT_PORT", String.valueOf(taken.getLocalPort()));

      assertThatThrownBy(() -> RunningService.startWith(env))
          .isInstanceOf(Service.PortUnavailable.class)
          .hasMessage("MANAGEMENT_PORT " + taken.getLocalPort()
              + " is already in use (another dispatcher?); stop it or set MANAGEMENT_PORT");
      // a task left running would fail once it ends, on a Vert.x that is closed by then
      await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
          .until(() -> uncaught.isEmpty());
    } finally {
      Thread.setDefaultUncaughtExceptionHandler(before);
    }
  }

  private static void publishOne(String topic) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(topic, null, "{}".getBytes(StandardCharsets.UTF_8));
      record.headers().add("account-id", "acc1".getBytes(StandardCharsets.UTF_8));
      producer.send(record).get(30, TimeUnit.SECONDS);
    }
  }
}
