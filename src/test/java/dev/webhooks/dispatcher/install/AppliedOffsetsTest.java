package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AppliedOffsetsTest {
  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);
  private final Vertx vertx = Vertx.vertx();
  private final Context context = vertx.getOrCreateContext();
  private final AppliedOffsets offsets = new AppliedOffsets();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void releasesAWriteOnceTheReaderIsPastItsOffset() {
    Future<Void> write = offsets.applied(P0, 5, context);
    offsets.advance(Map.of(P0, 5L, P1, 100L));
    assertThat(write.isComplete()).as("position 5 means offset 5 is not read yet").isFalse();

    offsets.advance(Map.of(P0, 6L));
    await().until(write::succeeded);
  }

  @Test
  void completesAtOnceWhenTheReaderIsAlreadyPast() {
    offsets.advance(Map.of(P0, 10L));
    assertThat(offsets.applied(P0, 9, context).succeeded()).isTrue();
  }

  @Test
  void failsWaitingWritesWhenTheReaderStops() {
    Future<Void> write = offsets.applied(P1, 0, context);
    offsets.failAll(new IllegalStateException("closed"));
    await().until(write::failed);
  }

  @Test
  void failsAtOnceAWriteThatComesAfterTheReaderStopped() {
    offsets.advance(Map.of(P0, 3L));
    offsets.failAll(new IllegalStateException("the reader died"));

    assertThat(offsets.applied(P0, 2, context).succeeded()).as("applied before it stopped").isTrue();
    Future<Void> later = offsets.applied(P0, 3, context);
    assertThat(later.failed()).as("nothing will ever apply it").isTrue();
    assertThat(later.cause()).hasMessage("the reader died");
  }
}
