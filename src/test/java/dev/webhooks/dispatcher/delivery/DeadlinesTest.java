package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DeadlinesTest {
  private static final Duration SPAN = Duration.ofMillis(100);
  private static Vertx vertx;

  private final Context loop = vertx.getOrCreateContext();
  private final Deadlines deadlines = new Deadlines(vertx, SPAN);
  private final List<String> expired = new CopyOnWriteArrayList<>();
  private final Map<String, Long> lateByNanos = new ConcurrentHashMap<>();

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void entriesExpireInTheOrderTheyWereAddedAndNoneBeforeItsSpan() {
    onLoop(() -> {
      for (String name : List.of("a", "b", "c")) {
        deadlines.add(new Named(name));
      }
    });

    await().atMost(Duration.ofSeconds(5)).until(() -> expired.size() == 3);
    assertThat(expired).containsExactly("a", "b", "c");
    assertThat(lateByNanos.values()).allSatisfy(late -> assertThat(late).isNotNegative());
  }

  @Test
  void aRemovedEntryNeverExpiresWhereverItIsInTheList() {
    Named first = new Named("first");
    Named middle = new Named("middle");
    Named last = new Named("last");
    onLoop(() -> {
      deadlines.add(first);
      deadlines.add(middle);
      deadlines.add(last);
      deadlines.remove(first);
      deadlines.remove(last);
      deadlines.remove(last); // twice: nothing happens
      deadlines.add(new Named("after"));
    });

    await().atMost(Duration.ofSeconds(5)).until(() -> expired.contains("after"));
    assertThat(expired).containsExactly("middle", "after");
  }

  @Test
  void theListEmptiedByExpiriesArmsItselfAgainForTheNextEntry() {
    Named again = new Named("again");
    onLoop(() -> deadlines.add(new Named("once")));
    await().atMost(Duration.ofSeconds(5)).until(() -> expired.contains("once"));

    onLoop(() -> deadlines.add(again));

    await().atMost(Duration.ofSeconds(5)).until(() -> expired.contains("again"));
    assertThat(expired).containsExactly("once", "again");
    onLoop(() -> deadlines.add(again)); // expired, so out of the list: it may be listed anew
    await().atMost(Duration.ofSeconds(5)).until(() -> expired.size() == 3);
  }

  @Test
  void anEntryThatFailsOnExpiryLeavesTheOthersTheirTimer() {
    onLoop(() -> {
      deadlines.add(new Named("failing") {
        @Override
        void expired() {
          super.expired();
          throw new IllegalStateException("a bug in one entry");
        }
      });
      deadlines.add(new Named("next"));
    });

    await().atMost(Duration.ofSeconds(5)).until(() -> expired.contains("next"));
    assertThat(expired).containsExactly("failing", "next");
  }

  @Test
  void anEntryAddedByAnExpiryDoesNotDelayTheEntriesListedBeforeIt() {
    Deadlines slow = new Deadlines(vertx, Duration.ofSeconds(1));
    long[] added = new long[1];
    long[] expiredAfter = new long[1];
    Deadlines.Entry second = new Deadlines.Entry() {
      @Override
      void expired() {
        expiredAfter[0] = System.nanoTime() - added[0];
        expired.add("second");
      }
    };
    onLoop(() -> {
      slow.add(new Deadlines.Entry() {
        @Override
        void expired() { // as a freed connection starting the next request does
          expired.add("first");
          slow.add(new Named("added on expiry"));
        }
      });
      vertx.setTimer(200, id -> {
        added[0] = System.nanoTime();
        slow.add(second);
      });
    });

    await().atMost(Duration.ofSeconds(5)).until(() -> expired.contains("second"));
    assertThat(expired).containsExactly("first", "second");
    // due 1 s after it was added; the entry added on the first's expiry is due 0.8 s after that
    assertThat(Duration.ofNanos(expiredAfter[0])).isBetween(Duration.ofSeconds(1), Duration.ofMillis(1_700));
  }

  private void onLoop(Runnable action) {
    loop.runOnContext(v -> action.run());
  }

  /** Notes its name on expiry, and how long after its span had passed since it was made. */
  private class Named extends Deadlines.Entry {
    private final String name;
    private final long addedAt = System.nanoTime(); // no later than it is added

    Named(String name) {
      this.name = name;
    }

    @Override
    void expired() {
      lateByNanos.put(name, System.nanoTime() - addedAt - SPAN.toNanos());
      expired.add(name);
    }
  }
}
