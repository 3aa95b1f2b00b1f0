package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.delivery.Courier;
import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.Outbox;
import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.delivery.Source;
import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.InstallationView;
import dev.webhooks.dispatcher.intake.Decoded;
import dev.webhooks.dispatcher.intake.EventDecoder;
import dev.webhooks.dispatcher.intake.Incoming;
import dev.webhooks.dispatcher.ops.Metrics;
import dev.webhooks.dispatcher.routing.Router;
import dev.webhooks.dispatcher.testing.Events;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A lane never lets a record be skipped while the ones after it commit, whatever happens to it on the way. */
class LaneTest {
  private static final String EVENTS = "events";
  private static final String RETRIES = "retries-1";
  private final List<DeadLetter> letters = new CopyOnWriteArrayList<>();
  /** The write of the dead letter of the record at offset 5 waits for this, when set. */
  private volatile Promise<Void> offsetFiveWritten;
  private final Outbox outbox = new Outbox() {
    @Override
    public Future<Void> deadLetter(DeadLetter deadLetter) {
      letters.add(deadLetter);
      Promise<Void> held = offsetFiveWritten;
      return deadLetter.source().offset() == 5 && held != null ? held.future() : Future.succeededFuture();
    }

    @Override
    public Future<Void> retry(Retry retry, int tier) {
      return Future.failedFuture(new IllegalStateException("no retries in this test"));
    }
  };
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Metrics metrics = new Metrics(registry, Clock.systemUTC());
  private Vertx vertx;
  private Lane lane;

  @BeforeEach
  void deployLane() throws Exception {
    vertx = Vertx.vertx();
    InstallationView buggy = new InstallationView() {
      @Override
      public List<Installation> installationsOf(String accountId) {
        throw new IllegalStateException("a bug of ours (test)");
      }

      @Override
      public Optional<Installation> find(String installationId) {
        return Optional.empty();
      }
    };
    lane = new Lane(new Router(buggy), Courier.create(vertx, Config.fromEnv(Map.of()), outbox, metrics), metrics);
    vertx.deployVerticle(lane).await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aRetryWhoseProcessingThrowsIsADeadLetterAndTheRecordsBehindItAreNotSkipped() throws Exception {
    lane.accept(List.of(retry(0, 7), rejected(1, 0), rejected(1, 1)));

    Map<TopicPartition, Long> finalOffsets = finish();

    assertThat(finalOffsets).containsEntry(new TopicPartition(RETRIES, 0), 8L)
        .containsEntry(new TopicPartition(EVENTS, 1), 2L);
    assertThat(letters).extracting(DeadLetter::reason)
        .containsExactlyInAnyOrder("internal-error", "invalid-json", "invalid-json");
    assertThat(letters).filteredOn(letter -> letter.reason().equals("internal-error")).singleElement()
        .satisfies(letter -> {
          assertThat(letter.webhookId()).as("the retry's own dead letter").isEqualTo("msg_retry");
          assertThat(letter.error()).contains("a bug of ours (test)");
        });
    assertThat(registry.get("webhook.deliveries.in.flight").gauge().value()).as("deliveries in flight").isZero();
  }

  @Test
  void aPartitionReadAgainFromAnEarlierOffsetCommitsFromThereNotFromItsOldReads() throws Exception {
    offsetFiveWritten = Promise.promise();
    lane.accept(List.of(rejected(0, 5), rejected(0, 6)));
    lane.accept(List.of(rejected(0, 3))); // the consumer went back while 5 was still in flight
    await().atMost(Duration.ofSeconds(10)).until(() -> letters.size() == 3);
    offsetFiveWritten.complete();

    Map<TopicPartition, Long> finalOffsets = finish();

    assertThat(finalOffsets).as("after 3, not after the old read's 5 and 6").containsEntry(new TopicPartition(EVENTS, 0), 4L);
    assertThat(letters).extracting(letter -> letter.source().offset()).containsExactly(5L, 6L, 3L);
  }

  @Test
  void aFailedCommitIsMadeAgainThoughNoRecordOfThePartitionEndsSince() {
    List<Map<TopicPartition, Long>> commits = new CopyOnWriteArrayList<>();
    lane.attach((offsets, failed) -> {
      commits.add(offsets);
      if (commits.size() == 1) { // as when the group is rebalancing
        failed.accept(offsets.keySet());
      }
    });

    lane.accept(List.of(rejected(0, 0)));

    Map<TopicPartition, Long> done = Map.of(new TopicPartition(EVENTS, 0), 1L);
    await().atMost(Duration.ofSeconds(10)).until(() -> commits.size() >= 2);
    assertThat(commits.subList(0, 2)).containsExactly(done, done);
  }

  @Test
  void anAccountsEventsWaitUncommittedWhileItIsHeldAndOtherAccountsFlow() throws Exception {
    FakeView view = new FakeView();
    view.unreadable.add("held");
    Lane lane = laneOver(view);
    List<Map<TopicPartition, Long>> commits = new CopyOnWriteArrayList<>();
    lane.attach((offsets, failed) -> commits.add(offsets));

    lane.accept(List.of(event(0, 0, "held"), event(1, 0, "other")));

    await().atMost(Duration.ofSeconds(10)).until(() -> commits.contains(Map.of(new TopicPartition(EVENTS, 1), 1L)));
    assertThat(unrouted()).as("the other account's event, routed: it has no app").isEqualTo(1);
    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3))
        .until(() -> commits.stream().noneMatch(c -> c.containsKey(new TopicPartition(EVENTS, 0))));
    view.unreadable.clear();
    await().atMost(Duration.ofSeconds(10)).until(() -> commits.contains(Map.of(new TopicPartition(EVENTS, 0), 1L)));
    assertThat(unrouted()).isEqualTo(2);
  }

  @Test
  void anEventRoutedToNothingAsItsAppBecomesUnreadableWaitsRatherThanBeUnrouted() throws Exception {
    FakeView view = new FakeView();
    view.becomesUnreadable = "acc"; // the store marks the account, then drops the app, while the lane routes
    Lane lane = laneOver(view);
    List<Map<TopicPartition, Long>> commits = new CopyOnWriteArrayList<>();
    lane.attach((offsets, failed) -> commits.add(offsets));

    lane.accept(List.of(event(0, 0, "acc")));

    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3))
        .until(() -> commits.isEmpty() && unrouted() == 0);
    view.becomesUnreadable = null;
    view.unreadable.clear();
    await().atMost(Duration.ofSeconds(10)).until(() -> commits.contains(Map.of(new TopicPartition(EVENTS, 0), 1L)));
    assertThat(unrouted()).as("routed once its app can be read: it has none").isEqualTo(1);
  }

  @Test
  void aRetryRoutedToNothingAsItsAppBecomesUnreadableWaitsRatherThanBeADeadLetter() throws Exception {
    FakeView view = new FakeView();
    view.becomesUnreadable = "acc";
    Lane lane = laneOver(view);

    lane.accept(List.of(retry(0, 0, "msg_a")));

    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(letters::isEmpty);
    view.becomesUnreadable = null;
    view.unreadable.clear();
    await().atMost(Duration.ofSeconds(10)).until(() -> letters.size() == 1);
    assertThat(letters.get(0).reason()).as("its app is really gone").isEqualTo("uninstalled");
  }

  @Test
  void anEventRoutedWhileItsAppWasGoneAndBackIsRoutedAgainNotTakenForUnrouted() throws Exception {
    FakeView view = new FakeView();
    view.flickers = "acc"; // unreadable and readable again while the lane looked: the account is not held after it
    Lane lane = laneOver(view);
    List<Map<TopicPartition, Long>> commits = new CopyOnWriteArrayList<>();
    lane.attach((offsets, failed) -> commits.add(offsets));

    lane.accept(List.of(event(0, 0, "acc")));

    await().atMost(Duration.ofSeconds(10)).until(() -> commits.contains(Map.of(new TopicPartition(EVENTS, 0), 1L)));
    assertThat(view.routings).as("routed again once it had looked").hasValue(2);
    assertThat(unrouted()).isEqualTo(1);
  }

  @Test
  void anEventWhoseAppCameBackAsTheLaneCheckedItsAccountIsRoutedAgain() throws Exception {
    FakeView view = new FakeView();
    view.leavesAndComesBack = "acc";
    Lane lane = laneOver(view);
    List<Map<TopicPartition, Long>> commits = new CopyOnWriteArrayList<>();
    lane.attach((offsets, failed) -> commits.add(offsets));

    lane.accept(List.of(event(0, 0, "acc")));

    await().atMost(Duration.ofSeconds(10)).until(() -> commits.contains(Map.of(new TopicPartition(EVENTS, 0), 1L)));
    assertThat(view.routings).as("routed again: the first routing missed the app").hasValue(2);
    assertThat(unrouted()).isEqualTo(1);
  }

  @Test
  void aRecordOfAHeldAccountWaitsBehindItsHeldRecordsThoughRoutingResumed() throws Exception {
    FakeView view = new FakeView();
    view.unreadable.add("acc");
    Lane lane = laneOver(view);
    lane.accept(List.of(retry(0, 0, "msg_older")));
    await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(letters::isEmpty);

    view.unreadable.clear(); // the lane looks again within a second; a record that comes before must not overtake
    lane.accept(List.of(retry(0, 1, "msg_newer")));

    await().atMost(Duration.ofSeconds(10)).until(() -> letters.size() == 2);
    assertThat(letters).extracting(DeadLetter::webhookId).containsExactly("msg_older", "msg_newer");
  }

  @Test
  void aRecordHeldWhenItsPartitionIsRevokedIsNotProcessedOnceRoutingResumes() throws Exception {
    FakeView view = new FakeView();
    view.unreadable.add("acc");
    Lane lane = laneOver(view);
    Incoming revoked = retry(0, 0, "msg_revoked");
    lane.accept(List.of(revoked));
    await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(letters::isEmpty);

    lane.revoke(List.of(new TopicPartition(RETRIES, 0))).get(10, TimeUnit.SECONDS);
    assertThat(revoked.partitionInFlight()).as("ended at the revocation, not when its account resumes").hasValue(0);
    lane.accept(List.of(retry(1, 0, "msg_kept")));
    view.unreadable.clear();

    await().atMost(Duration.ofSeconds(10)).until(() -> letters.size() == 1);
    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> letters.size() == 1);
    assertThat(letters).extracting(DeadLetter::webhookId).as("the new owner of partition 0 has the other")
        .containsExactly("msg_kept");
  }

  @Test
  void aDrainDuringAHoldDoesNotWaitForTheHeldRecords() throws Exception {
    FakeView view = new FakeView();
    view.unreadable.add("acc");
    Lane lane = laneOver(view);
    lane.accept(List.of(event(0, 0, "acc"), rejected(1, 0)));
    await().atMost(Duration.ofSeconds(5)).until(() -> letters.size() == 1);

    Map<TopicPartition, Long> finalOffsets =
        lane.finish(System.nanoTime() + Duration.ofSeconds(30).toNanos()).await(5, TimeUnit.SECONDS);

    assertThat(finalOffsets).as("the held event stays uncommitted").containsExactly(
        Map.entry(new TopicPartition(EVENTS, 1), 1L));
  }

  private Lane laneOver(InstallationView view) throws Exception {
    Lane lane = new Lane(new Router(view), Courier.create(vertx, Config.fromEnv(Map.of()), outbox, metrics), metrics);
    vertx.deployVerticle(lane).await(10, TimeUnit.SECONDS);
    return lane;
  }

  /** A view with no app, where each account in {@code unreadable} has an installation it cannot read. */
  private static final class FakeView implements InstallationView {
    final Set<String> unreadable = ConcurrentHashMap.newKeySet();
    /** Routing this account makes it unreadable, as the store marks it before the app leaves the view. */
    volatile String becomesUnreadable;
    /** Routing this account once finds its app gone and back again when it looks at it (the count moves). */
    volatile String flickers;
    /**
     * This account's app leaves as a record passes the lane's first check, and comes back, its account let go, just as
     * the lane asks whether the account is whole: the store raises the count first each time.
     */
    volatile String leavesAndComesBack;
    private final AtomicInteger leaving = new AtomicInteger();
    final AtomicLong changes = new AtomicLong();
    final AtomicInteger routings = new AtomicInteger();

    @Override
    public List<Installation> installationsOf(String accountId) {
      routings.incrementAndGet();
      if (accountId.equals(becomesUnreadable)) {
        unreadable.add(accountId);
      }
      if (accountId.equals(flickers)) {
        flickers = null;
        changes.addAndGet(2);
      }
      return List.of();
    }

    @Override
    public long completenessChanges() {
      return changes.get();
    }

    @Override
    public Optional<Installation> find(String installationId) {
      return Optional.empty();
    }

    @Override
    public boolean isComplete() {
      if (leavesAndComesBack != null && leaving.compareAndSet(0, 1)) {
        changes.incrementAndGet();
        unreadable.add(leavesAndComesBack);
        return true; // asked just before it left
      }
      return unreadable.isEmpty();
    }

    @Override
    public boolean isComplete(String accountId) {
      if (accountId.equals(leavesAndComesBack) && leaving.compareAndSet(1, 2)) {
        changes.incrementAndGet();
        unreadable.remove(accountId);
      }
      return !unreadable.contains(accountId);
    }
  }

  private double unrouted() {
    var counter = registry.find("webhook.events.consumed").tag("result", "unrouted").counter();
    return counter == null ? 0 : counter.count();
  }

  private static Incoming event(int partition, long offset) {
    return event(partition, offset, "acc");
  }

  private static Incoming event(int partition, long offset, String account) {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(EVENTS, partition, offset, "conv".getBytes(),
        Events.bytes(Events.content("conv", "hi")));
    record.headers().add("account-id", account.getBytes());
    Decoded decoded = new EventDecoder(256 * 1024).decode(record);
    assertThat(decoded).isInstanceOf(Decoded.Accepted.class);
    return incoming(new Source(EVENTS, partition, offset, 0), decoded);
  }

  private Map<TopicPartition, Long> finish() throws Exception {
    return lane.finish(System.nanoTime() + Duration.ofSeconds(10).toNanos()).await(20, TimeUnit.SECONDS);
  }

  private static Incoming rejected(int partition, long offset) {
    return incoming(new Source(EVENTS, partition, offset, 0), new Decoded.Rejected("invalid-json", "not JSON", ""));
  }

  private static Incoming retry(int partition, long offset) {
    return retry(partition, offset, "msg_retry");
  }

  private static Incoming retry(int partition, long offset, String webhookId) {
    Source event = new Source(EVENTS, 2, 40, 0);
    Retry retry = new Retry("acc", "client", "ms.MessagingEventNotification.ContentEvent", webhookId,
        "https://example.com/", 1, 0, 0, OptionalInt.of(500), "HTTP 500", event, Buffer.buffer("{}"));
    return incoming(new Source(RETRIES, partition, offset, 0), new Decoded.Retrying(retry));
  }

  private static Incoming incoming(Source source, Decoded decoded) {
    return new Incoming(source, decoded, "{}".getBytes(), new AtomicInteger(1));
  }
}
