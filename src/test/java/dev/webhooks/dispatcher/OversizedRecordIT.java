package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Events topics may take records larger than the dispatcher's producer sends (1 MiB). Their retries and dead letters
 * then cannot be written as they are; trying for good would stop the partition's commits, so they give way to
 * smaller records and the good events behind them are delivered and committed.
 */
class OversizedRecordIT {
  private static final int MIB = 1024 * 1024;
  private static Vertx vertx;
  private static TestReceiver receiver;
  private static RunningService service;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    // One partition: each oversized record sits directly in front of a good one.
    service = RunningService.start(Map.of("TOPIC_PARTITIONS", "1", "MAX_EVENT_BYTES", String.valueOf(3 * MIB)));
    try (Admin admin = TestKafka.admin()) {
      ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, service.eventsTopic());
      AlterConfigOp larger = new AlterConfigOp(
          new ConfigEntry("max.message.bytes", String.valueOf(8 * MIB)), AlterConfigOp.OpType.SET);
      admin.incrementalAlterConfigs(Map.of(topic, List.of(larger))).all().get(30, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    service.close();
    receiver.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aRetryOrDeadLetterTooLargeForKafkaIsDeadLetteredWithoutItsValueAndThePartitionGoesOn() throws Exception {
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    service.install(account, """
        {"client_name": "oversized-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": 2}}}}
        """.formatted(receiver.url("/" + account)));
    receiver.enqueue(500);
    byte[] failsOnce = Events.bytes(Events.content("c", "f".repeat(3 * MIB / 2))); // accepted, its retry is too large
    byte[] refused = Events.bytes(Events.content("c", "r".repeat(4 * MIB))); // over MAX_EVENT_BYTES

    String source = service.eventsTopic() + "/0/";
    long failedAt = publishLarge(account, failsOnce); // alone, so that it is the request answered 500
    ConsumerRecord<byte[], byte[]> retryLetter = service.awaitDeadLetters(
        r -> RunningService.header(r, "source").equals(source + failedAt), 1).get(0);
    service.publish(account, "c", Events.bytes(Events.content("c", "good after the failed one")));
    long refusedAt = publishLarge(account, refused);
    service.publish(account, "c", Events.bytes(Events.content("c", "good after the refused one")));

    List<ConsumerRecord<byte[], byte[]>> letters = service.awaitDeadLetters(r -> account.equals(
        RunningService.header(r, "account-id")), 2);
    assertThat(letters).extracting(r -> RunningService.header(r, "source"))
        .containsExactlyInAnyOrder(source + failedAt, source + refusedAt);
    assertThat(letters).allSatisfy(letter -> {
      assertThat(letter.value()).isEmpty();
      assertThat(RunningService.header(letter, "reason")).isEqualTo("too-large");
      assertThat(RunningService.header(letter, "error")).contains("bytes is left out", "max.request.size");
    });
    assertThat(RunningService.header(retryLetter, "error")).contains("its retry is too large for Kafka");
    assertThat(RunningService.header(retryLetter, "attempts")).isEqualTo("1");
    assertThat(RunningService.header(retryLetter, "last-status")).isEqualTo("500");

    await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().stream()
        .filter(r -> r.body().toString().contains("good after")).count() == 2);
    service.awaitAllCommitted();
    assertThat(receiver.requests()).as("the failed one once, the two good ones").hasSize(3);
  }

  /**
   * Published with a producer of its own: the service's test producer keeps Kafka's 1 MiB request limit. The topic's
   * larger limit reaches the broker's log a moment after the change is acknowledged, so a refusal is tried again.
   */
  private static long publishLarge(String account, byte[] value) {
    return await().atMost(Duration.ofSeconds(30)).ignoreExceptionsInstanceOf(ExecutionException.class)
        .until(() -> send(account, value), offset -> offset >= 0);
  }

  private static long send(String account, byte[] value) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * MIB,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(service.eventsTopic(), "c".getBytes(StandardCharsets.UTF_8), value);
      record.headers().add("account-id", account.getBytes(StandardCharsets.UTF_8));
      return producer.send(record).get(30, TimeUnit.SECONDS).offset();
    }
  }
}
