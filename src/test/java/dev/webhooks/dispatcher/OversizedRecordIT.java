package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Events larger than Kafka's default 1 MiB, up to {@code MAX_EVENT_BYTES}: their retries and dead letters are written
 * like any other, and one that Kafka still will not take gives way to a smaller record instead of being tried for
 * good, which would stop the partition's commits.
 */
class OversizedRecordIT {
  private static final int MIB = 1024 * 1024;
  private static Vertx vertx;
  private TestReceiver receiver;
  private RunningService service;
  private String account;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void startReceiver() {
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
    account = "acc" + UUID.randomUUID().toString().substring(0, 8);
  }

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
    receiver.close();
  }

  @Test
  void anEventOverOneMebibyteIsRetriedThroughTopicsTheServiceMadeLargeEnough() {
    String prefix = TestKafka.uniqueName("it");
    createTopics(Map.of(prefix + "-events", 8 * MIB));
    start(prefix);

    receiver.enqueue(500);
    publishLarge(Events.bytes(Events.content("c", "a".repeat(3 * MIB / 2))));

    List<ReceivedRequest> twice = await().atMost(Duration.ofSeconds(30))
        .until(receiver::requests, requests -> requests.size() == 2);
    assertThat(twice).extracting(r -> r.header("webhook-id")).containsOnly(twice.get(0).header("webhook-id"));
    assertThat(twice).allSatisfy(r -> assertThat(r.body().length()).isGreaterThan(3 * MIB / 2));
    service.awaitAllCommitted();
    assertThat(service.deadLettersSoFar()).isEmpty();
  }

  @Test
  void whatKafkaWillNotTakeIsDeadLetteredSmallerAndThePartitionGoesOn() {
    String prefix = TestKafka.uniqueName("it");
    Map<String, Integer> limits = new HashMap<>(Map.of(prefix + "-events", 8 * MIB));
    IntStream.rangeClosed(1, 5).forEach(tier -> limits.put(prefix + "-retries-" + tier, MIB)); // an operator's
    createTopics(limits);
    start(prefix);
    String source = prefix + "-events/0/";

    // 1.5 MiB, under MAX_EVENT_BYTES, but over what its retry topic takes: a dead letter, its body kept.
    receiver.enqueue(500);
    long unretriableAt = publishLarge(Events.bytes(Events.content("c", "b".repeat(3 * MIB / 2))));
    ConsumerRecord<byte[], byte[]> unretriable = service.awaitDeadLetters(
        r -> RunningService.header(r, "source").equals(source + unretriableAt), 1).get(0);
    service.publish(account, "c", Events.bytes(Events.content("c", "good after the unretriable one")));
    // 4 MiB, over MAX_EVENT_BYTES: refused, and its dead letter with the raw value is over what the producer sends.
    long refusedAt = publishLarge(Events.bytes(Events.content("c", "r".repeat(4 * MIB))));
    service.publish(account, "c", Events.bytes(Events.content("c", "good after the refused one")));

    ConsumerRecord<byte[], byte[]> refused = service.awaitDeadLetters(
        r -> RunningService.header(r, "source").equals(source + refusedAt), 1).get(0);
    assertThat(List.of(unretriable, refused)).extracting(r -> RunningService.header(r, "reason"))
        .containsOnly("too-large");
    assertThat(RunningService.header(unretriable, "error")).contains("its retry is too large for Kafka");
    assertThat(RunningService.header(unretriable, "attempts")).isEqualTo("1");
    assertThat(RunningService.header(unretriable, "last-status")).isEqualTo("500");
    assertThat(unretriable.value().length).as("the dead-letter topic takes it").isGreaterThan(3 * MIB / 2);
    assertThat(refused.value()).isEmpty();
    assertThat(RunningService.header(refused, "error")).contains("bytes is left out", "max.request.size");

    await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().stream()
        .filter(r -> r.body().toString().contains("good after")).count() == 2);
    service.awaitAllCommitted();
    assertThat(receiver.requests()).as("1 for the unretriable one, 2 good").hasSize(3);
  }

  private void start(String prefix) {
    Map<String, String> env = RunningService.environment(prefix);
    env.put("MAX_EVENT_BYTES", String.valueOf(3 * MIB));
    env.put("TOPIC_PARTITIONS", "1"); // each large record sits directly in front of a good one
    service = RunningService.startWith(env);
    service.install(account, """
        {"client_name": "oversized-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": 2}}}}
        """.formatted(receiver.url("/" + account)));
  }

  /** Topics as an operator would make them before the service starts, with their {@code max.message.bytes}. */
  private static void createTopics(Map<String, Integer> maxMessageBytes) {
    try (Admin admin = TestKafka.admin()) {
      admin.createTopics(maxMessageBytes.entrySet().stream()
          .map(topic -> new NewTopic(topic.getKey(), 1, (short) 1)
              .configs(Map.of("max.message.bytes", String.valueOf(topic.getValue()))))
          .toList()).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create " + maxMessageBytes.keySet(), e);
    }
  }

  /** Published with a producer of its own: the service's test producer keeps Kafka's 1 MiB request limit. */
  private long publishLarge(byte[] value) {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * MIB,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
      ProducerRecord<byte[], byte[]> record =
          new ProducerRecord<>(service.eventsTopic(), "c".getBytes(StandardCharsets.UTF_8), value);
      record.headers().add("account-id", account.getBytes(StandardCharsets.UTF_8));
      return producer.send(record).get(30, TimeUnit.SECONDS).offset();
    } catch (Exception e) {
      throw new IllegalStateException("cannot publish " + value.length + " bytes", e);
    }
  }
}
