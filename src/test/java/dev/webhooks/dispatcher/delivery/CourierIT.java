package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The courier against a real HTTPS receiver and the real test broker: dead letters and retries are read back from Kafka. */
class CourierIT {
  private static Vertx vertx;
  private static TestReceiver receiver;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
  }

  @AfterAll
  static void stop() throws Exception {
    receiver.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aFailedDeliveryWithoutRetriesBecomesADeadLetterWithEveryHeader() throws Exception {
    String topic = TestKafka.uniqueName("dead-letters");
    TestKafka.createTopic(topic, 1);
    KafkaOutbox writer = KafkaOutbox.create(vertx, TestKafka.connection(), topic, List.of("unused-retries"),
        Config.KAFKA_DEFAULT_RECORD_BYTES);
    RecordingListener listener = new RecordingListener();
    Courier courier =
        Courier.create(vertx, Deliveries.config("DEAD_LETTER_TOPIC", topic), writer, listener);
    receiver.enqueue(500);
    Delivery delivery = Deliveries.to(receiver.url("/it?x=1"), 0);
    int before = receiver.requests().size();

    onEventLoop(() -> courier.deliver(delivery)).await(30, TimeUnit.SECONDS);

    assertThat(receiver.requests()).hasSize(before + 1);
    ConsumerRecord<byte[], byte[]> record = readOne(topic);
    assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo(Deliveries.CLIENT_ID);
    assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo(Deliveries.BODY);
    Map<String, String> headers = new LinkedHashMap<>();
    for (Header header : record.headers()) {
      headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
    }
    assertThat(headers.keySet())
        .containsExactly(
            "account-id", "client-id", "webhook-key", "webhook-id", "endpoint", "attempts", "last-status", "reason",
            "error", "source");
    assertThat(headers)
        .containsEntry("account-id", Deliveries.ACCOUNT)
        .containsEntry("client-id", Deliveries.CLIENT_ID)
        .containsEntry("webhook-key", "ms.MessagingEventNotification.ContentEvent")
        .containsEntry("webhook-id", delivery.webhookId())
        .containsEntry("endpoint", receiver.url("/it?x=1"))
        .containsEntry("attempts", "1")
        .containsEntry("last-status", "500")
        .containsEntry("reason", "exhausted")
        .containsEntry("source", "messaging-events/3/1042");
    assertThat(headers.get("error")).contains("500").doesNotContain("\n");
    assertThat(listener.events).containsExactly("started", "attempted 1 5xx", "deadLettered exhausted");

    courier.close().await(10, TimeUnit.SECONDS);
    writer.close().await(20, TimeUnit.SECONDS);
  }

  @Test
  void aDeadLetterWithoutAClientIdHasNoKeyAndAnEmptyLastStatus() throws Exception {
    String topic = TestKafka.uniqueName("dead-letters");
    TestKafka.createTopic(topic, 1);
    KafkaOutbox writer = KafkaOutbox.create(vertx, TestKafka.connection(), topic, List.of("unused-retries"),
        Config.KAFKA_DEFAULT_RECORD_BYTES);
    DeadLetter intakeFailure =
        new DeadLetter(
            "le1", "", "", "", "", 0, java.util.OptionalInt.empty(), "invalid-json", "not JSON:\nline two",
            new Source("messaging-events", 0, 7, 0), io.vertx.core.buffer.Buffer.buffer("{oops"));

    onEventLoop(() -> writer.deadLetter(intakeFailure)).await(30, TimeUnit.SECONDS);

    ConsumerRecord<byte[], byte[]> record = readOne(topic);
    assertThat(record.key()).isNull();
    assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo("{oops");
    assertThat(new String(record.headers().lastHeader("last-status").value(), StandardCharsets.UTF_8)).isEmpty();
    assertThat(new String(record.headers().lastHeader("error").value(), StandardCharsets.UTF_8)).isEqualTo("not JSON: line two");
    writer.close().await(20, TimeUnit.SECONDS);
  }

  @Test
  void aFailedAttemptWithRetriesLeftIsWrittenToTheRetryTopicAndReadsBackWhole() throws Exception {
    String tier1 = TestKafka.uniqueName("retries-1");
    TestKafka.createTopic(tier1, 1);
    KafkaOutbox outbox = KafkaOutbox.create(vertx, TestKafka.connection(), "unused-dead-letters",
        List.of(tier1, "unused-tier-2"), Config.KAFKA_DEFAULT_RECORD_BYTES);
    RecordingListener listener = new RecordingListener();
    Courier courier = Courier.create(vertx, Deliveries.config(), outbox, listener);
    receiver.enqueue(503);
    Delivery delivery = Deliveries.to(receiver.url("/retry?x=1"), 2);
    long before = System.currentTimeMillis();

    onEventLoop(() -> courier.deliver(delivery)).await(30, TimeUnit.SECONDS);

    ConsumerRecord<byte[], byte[]> record = readOne(tier1);
    assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo(Deliveries.CLIENT_ID);
    Retry retry = Retry.fromRecord(record);
    assertThat(retry.accountId()).isEqualTo(Deliveries.ACCOUNT);
    assertThat(retry.clientId()).isEqualTo(Deliveries.CLIENT_ID);
    assertThat(retry.webhookKey()).isEqualTo(delivery.webhookKey());
    assertThat(retry.webhookId()).isEqualTo(delivery.webhookId());
    assertThat(retry.endpoint()).isEqualTo(receiver.url("/retry?x=1"));
    assertThat(retry.attempts()).isEqualTo(1);
    assertThat(retry.dueAtMillis()).isGreaterThanOrEqualTo(before + 2000); // RETRY_BASE_DELAY_MS's default
    assertThat(retry.lastStatus()).hasValue(503);
    assertThat(retry.lastError()).contains("503");
    assertThat(retry.source()).isEqualTo(delivery.source());
    assertThat(retry.body()).isEqualTo(delivery.body());
    assertThat(listener.events).containsExactly("started", "attempted 1 5xx", "retryScheduled 2");

    courier.close().await(10, TimeUnit.SECONDS);
    outbox.close().await(20, TimeUnit.SECONDS);
  }

  private static <T> Future<T> onEventLoop(java.util.function.Supplier<Future<T>> action) {
    Promise<T> result = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> action.get().onComplete(result));
    return result.future();
  }

  private static ConsumerRecord<byte[], byte[]> readOne(String topic) {
    Map<String, Object> config =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, TestKafka.uniqueName("reader"),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topic));
      List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (records.isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
      assertThat(records).as("records in " + topic).hasSize(1);
      return records.get(0);
    }
  }
}
