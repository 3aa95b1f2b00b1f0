package dev.webhooks.dispatcher.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The bounded wait of a stop: a broker stuck in its shutdown cannot be made on demand, so a stuck task stands in. */
class EmbeddedKafkaTest {
  private static final Duration LIMIT = Duration.ofMillis(300);

  @Test
  void givesUpOnAStopThatOutlastsItsLimitAndLeavesItOnADaemonThread() {
    CountDownLatch never = new CountDownLatch(1);
    AtomicReference<Thread> runner = new AtomicReference<>();
    long waiting = System.nanoTime();

    boolean stopped = EmbeddedKafka.runWithin(() -> {
      runner.set(Thread.currentThread());
      awaitUninterruptibly(never);
    }, LIMIT, "stuck-stop");

    assertThat(stopped).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - waiting)).isBetween(LIMIT, LIMIT.plusSeconds(2));
    assertThat(runner.get().isAlive()).isTrue();
    assertThat(runner.get().isDaemon()).as("does not keep the JVM alive").isTrue();
    never.countDown();
    await().atMost(Duration.ofSeconds(5)).until(() -> !runner.get().isAlive());
  }

  @Test
  void waitsForAStopThatEndsInTime() {
    CountDownLatch ran = new CountDownLatch(1);

    assertThat(EmbeddedKafka.runWithin(ran::countDown, Duration.ofSeconds(10), "quick-stop")).isTrue();
    assertThat(ran.getCount()).isZero();
  }

  @Test
  void countsAStopThatFailedAsEndedRatherThanThrowing() {
    assertThat(EmbeddedKafka.runWithin(() -> {
      throw new IllegalStateException("already stopped");
    }, Duration.ofSeconds(10), "failing-stop")).isTrue();
  }

  /** Ignores interrupts, as a thread stuck in Kafka's shutdown did (KafkaRaftClientDriver.shutdown). */
  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (latch.getCount() > 0) {
      try {
        latch.await();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
