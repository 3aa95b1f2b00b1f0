package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.delivery.Courier;
import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.DeliveryListener;
import dev.webhooks.dispatcher.delivery.Outbox;
import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.install.InstallationView;
import dev.webhooks.dispatcher.testing.NoInstallations;
import dev.webhooks.dispatcher.intake.EventConsumer;
import dev.webhooks.dispatcher.intake.EventDecoder;
import dev.webhooks.dispatcher.intake.Incoming;
import dev.webhooks.dispatcher.ops.Metrics;
import dev.webhooks.dispatcher.routing.Router;
import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.TestKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The drain on shutdown against a real broker: what the consumer hands over as the drain begins is still committed. */
class DrainIT {
  private static final int RECORDS = 20;
  private final Vertx vertx = Vertx.vertx();
  private final List<DeadLetter> letters = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeVertx() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /**
   * The consumer is handing a polled batch to the lanes at the moment the drain begins (held here mid hand-off). The
   * lanes must not close before that batch reaches them: its records (not JSON) become dead letters within the grace
   * and are committed when the drain ends, not refused by a closed courier and left for another instance to redo.
   */
  @Test
  void aBatchHandedOverAsTheDrainBeginsIsFinishedAndCommitted() throws Exception {
    String topic = TestKafka.uniqueName("drain-events");
    String group = TestKafka.uniqueName("drain-group");
    TestKafka.createTopic(topic, 1);
    publish(topic);
    Dispatcher dispatcher = Dispatcher.deploy(vertx, 2, this::lane).await(10, TimeUnit.SECONDS);
    HeldSink held = new HeldSink(dispatcher);
    KafkaConsumer<byte[], byte[]> kafka = new KafkaConsumer<>(EventConsumer.consumerConfig(
        TestKafka.bootstrapServers(), group, 500, Duration.ofSeconds(10)));
    dispatcher.start(new EventConsumer(kafka, List.of(topic), new EventDecoder(1 << 20, List.of()), held, 1_000,
        Duration.ofMinutes(1)));
    await().atMost(Duration.ofSeconds(30)).until(() -> held.handing.getCount() == 0);

    Future<Void> drained = dispatcher.drain(Duration.ofSeconds(10));
    held.release.countDown();
    drained.await(30, TimeUnit.SECONDS);

    assertThat(letters).as("every record of the held batch is final").hasSize((int) held.lastOffset + 1);
    assertThat(committed(group, new TopicPartition(topic, 0))).as("the offset after the held batch")
        .isEqualTo(held.lastOffset + 1);
  }

  private Lane lane() {
    InstallationView nothingInstalled = new NoInstallations();
    Outbox recording = new Outbox() {
      @Override
      public Future<Void> deadLetter(DeadLetter deadLetter) {
        letters.add(deadLetter);
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> retry(Retry retry, int tier) {
        return Future.failedFuture(new IllegalStateException("no retries in this test"));
      }
    };
    return new Lane(new Router(nothingInstalled),
        Courier.create(vertx, Config.fromEnv(Map.of()), recording, DeliveryListener.NONE),
        new Metrics(new SimpleMeterRegistry(), Clock.systemUTC()));
  }

  private static void publish(String topic) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
      for (int i = 0; i < RECORDS; i++) {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, Events.bytes("conv-" + i),
            Events.bytes("not JSON " + i));
        record.headers().add("account-id", "acct".getBytes(StandardCharsets.UTF_8));
        producer.send(record).get(10, TimeUnit.SECONDS);
      }
    }
  }

  private static long committed(String group, TopicPartition partition) throws Exception {
    try (Admin admin = TestKafka.admin()) {
      OffsetAndMetadata offset = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
          .get(10, TimeUnit.SECONDS).get(partition);
      return offset == null ? -1 : offset.offset();
    }
  }

  /** Passes batches on to the dispatcher, but holds the first one mid hand-off until released. */
  private static final class HeldSink implements EventConsumer.Sink {
    final CountDownLatch handing = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final Dispatcher dispatcher;
    volatile long lastOffset = -1;

    HeldSink(Dispatcher dispatcher) {
      this.dispatcher = dispatcher;
    }

    @Override
    public void accept(List<Incoming> batch) {
      if (handing.getCount() > 0) {
        lastOffset = batch.get(batch.size() - 1).source().offset();
        handing.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      dispatcher.accept(batch);
    }

    @Override
    public CompletableFuture<Map<TopicPartition, Long>> revoke(Collection<TopicPartition> partitions) {
      return dispatcher.revoke(partitions);
    }

    @Override
    public void lose(Collection<TopicPartition> partitions) {
      dispatcher.lose(partitions);
    }
  }
}
