package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.testing.TestKafka;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The outbox against the real test broker: each write's outcome comes back on the Vert.x context that asked for it. */
class KafkaOutboxIT {
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
  void writesCompleteOnTheCallersContextOnceTheBrokerHasThemInOrder() throws Exception {
    String retries = TestKafka.uniqueName("retries");
    TestKafka.createTopic(retries, 1);
    KafkaOutbox outbox = KafkaOutbox.create(vertx, TestKafka.connection(), "unused-dead-letters", List.of(retries),
        Config.KAFKA_DEFAULT_RECORD_BYTES);
    Context context = vertx.getOrCreateContext();
    CompletableFuture<Boolean> onCaller = new CompletableFuture<>();

    context.runOnContext(v -> {
      for (int i = 0; i < 99; i++) {
        outbox.retry(retry(i, "{}"), 1);
      }
      outbox.retry(retry(99, "{}"), 1).onComplete(done ->
          onCaller.complete(done.succeeded() && Vertx.currentContext() == context));
    });

    assertThat(onCaller.get(30, TimeUnit.SECONDS)).as("acknowledged, on the caller's context").isTrue();
    assertThat(TestKafka.readAll(retries))
        .extracting(record -> Retry.fromRecord(record).webhookId())
        .as("in the order they were written")
        .containsExactlyElementsOf(IntStream.range(0, 100).mapToObj(i -> "wh-" + i).toList());
    outbox.close().await(30, TimeUnit.SECONDS);
  }

  @Test
  void aWriteTheBrokerCannotTakeAndAWriteAfterCloseFailOnTheCallersContext() throws Exception {
    String deadLetters = TestKafka.uniqueName("dead-letters");
    TestKafka.createTopic(deadLetters, 1);
    KafkaOutbox outbox = KafkaOutbox.create(vertx, TestKafka.connection(), deadLetters, List.of("unused"),
        Config.KAFKA_DEFAULT_RECORD_BYTES);
    Context context = vertx.getOrCreateContext();
    String tooLarge = "x".repeat(2 * 1024 * 1024); // the producer's max.request.size is 1 MiB

    Throwable refused = failureOnCaller(context, () -> outbox.deadLetter(retry(0, tooLarge).abandoned("exhausted", "")));
    outbox.close().await(30, TimeUnit.SECONDS);
    Throwable closed = failureOnCaller(context, () -> outbox.deadLetter(retry(1, "{}").abandoned("exhausted", "")));

    assertThat(refused).as("refused by the producer").isInstanceOf(Outbox.TooLarge.class)
        .hasCauseInstanceOf(RecordTooLargeException.class);
    assertThat(closed).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aRecordOverTheTopicsLimitIsTooLargeForGood() throws Exception {
    String deadLetters = TestKafka.uniqueName("dead-letters");
    try (Admin admin = TestKafka.admin()) {
      admin.createTopics(List.of(new NewTopic(deadLetters, 1, (short) 1).configs(Map.of("max.message.bytes", "2048"))))
          .all().get(30, TimeUnit.SECONDS);
    }
    KafkaOutbox outbox = KafkaOutbox.create(vertx, TestKafka.connection(), deadLetters, List.of("unused"),
        Config.KAFKA_DEFAULT_RECORD_BYTES);

    Throwable refused = failureOnCaller(vertx.getOrCreateContext(),
        () -> outbox.deadLetter(retry(0, "x".repeat(4096)).abandoned("exhausted", "")));
    outbox.close().await(30, TimeUnit.SECONDS);

    assertThat(refused).as("refused by the broker").isInstanceOf(Outbox.TooLarge.class)
        .hasCauseInstanceOf(RecordTooLargeException.class);
  }

  /** The failure of the write {@code write} starts on {@code context}, checked to be reported there. */
  private static Throwable failureOnCaller(Context context, Supplier<Future<Void>> write) {
    CompletableFuture<Throwable> failure = new CompletableFuture<>();
    context.runOnContext(v -> write.get().onComplete(done -> {
      if (Vertx.currentContext() != context) {
        failure.completeExceptionally(new AssertionError("completed on another context"));
      } else {
        failure.complete(done.failed() ? done.cause() : null);
      }
    }));
    await().atMost(Duration.ofSeconds(30)).until(failure::isDone);
    return failure.join();
  }

  private static Retry retry(int i, String body) {
    return new Retry("acct", "client", "ms.MessagingEventNotification.ContentEvent", "wh-" + i,
        "https://example.com/hook", 1, 0, 0, OptionalInt.of(503), "HTTP 503", new Source("events", 0, i, 0),
        Bodies.of(body.getBytes(StandardCharsets.UTF_8)));
  }
}
