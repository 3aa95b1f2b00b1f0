package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestReceiver;
import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import dev.webhooks.dispatcher.testing.TestReceiver.Response;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CourierTest {
  /** Base 1 s so that attempts land in different Unix seconds; no jitter so the gaps are exact minimums. */
  private static final RetryPolicy ONE_SECOND_DOUBLING = new RetryPolicy(Duration.ofSeconds(1), 2.0, Duration.ofSeconds(30), 0);
  /** One attempt at a time per endpoint; the next waits at most 1 s for it (long enough for a TLS handshake). */
  private static final Config ONE_CONNECTION_WAITED_FOR_ONE_SECOND =
      Deliveries.config("DELIVERY_MAX_CONNECTIONS_PER_ENDPOINT", "1", "DELIVERY_CONNECT_TIMEOUT_MS", "1000");
  private static Vertx vertx;
  private TestReceiver receiver;
  /** The one context a test's courier is used from, as a lane's is: its endpoint gates are confined to it. */
  private Context lane;
  private final RecordingListener listener = new RecordingListener();

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
    lane = vertx.getOrCreateContext();
  }

  @AfterEach
  void stopReceiver() {
    receiver.close();
  }

  @Test
  void handsEachFailedAttemptToTheRetryTopicAndResumesItWhenDueUnderOneWebhookId() throws Exception {
    receiver.enqueue(500, 500, 200);
    RecordingOutbox outbox = new RecordingOutbox();
    Courier courier = courier(Deliveries.config(), ONE_SECOND_DOUBLING, outbox);
    Delivery delivery = Deliveries.to(receiver.url("/hook"), 2);

    long before = System.currentTimeMillis();
    deliver(courier, delivery).await(10, TimeUnit.SECONDS);
    Retry first = outbox.retries.get(0);
    assertThat(first.attempts()).isEqualTo(1);
    assertThat(first.dueAtMillis()).isBetween(before + 1000, System.currentTimeMillis() + 1000);
    assertThat(first.lastStatus()).hasValue(500);
    assertThat(first.webhookId()).isEqualTo(delivery.webhookId());
    assertThat(first.body()).isEqualTo(delivery.body());
    assertThat(first.source()).isEqualTo(delivery.source());
    resume(courier, first, delivery).await(10, TimeUnit.SECONDS);
    Retry second = outbox.retries.get(1);
    assertThat(second.attempts()).isEqualTo(2);
    assertThat(outbox.tiers).as("retry n waits in tier n").containsExactly(1, 2);
    resume(courier, second, delivery).await(10, TimeUnit.SECONDS);

    List<ReceivedRequest> requests = receiver.requests();
    assertThat(requests).hasSize(3);
    Duration firstGap = Duration.between(requests.get(0).arrivedAt(), requests.get(1).arrivedAt());
    Duration secondGap = Duration.between(requests.get(1).arrivedAt(), requests.get(2).arrivedAt());
    assertThat(firstGap).isGreaterThanOrEqualTo(Duration.ofMillis(1000));
    assertThat(secondGap).isGreaterThanOrEqualTo(Duration.ofMillis(2000)).isGreaterThan(firstGap);
    assertThat(requests).extracting(r -> r.header("webhook-id")).containsOnly(requests.get(0).header("webhook-id"));
    assertThat(requests).extracting(r -> Long.parseLong(r.header("webhook-timestamp"))).isSorted().doesNotHaveDuplicates();
    assertThat(listener.events)
        .containsExactly(
            "started", "attempted 1 5xx", "retryScheduled 2", "resumed 1", "attempted 2 5xx", "retryScheduled 3",
            "resumed 2", "attempted 3 2xx", "delivered 3");
    assertThat(listener.retryDelays).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2));
    assertThat(outbox.written).isEmpty();
  }

  @Test
  void deadLettersAfterTheLastRetryFails() throws Exception {
    receiver.enqueue(500, 503);
    RecordingOutbox outbox = new RecordingOutbox();
    Courier courier = courier(Deliveries.config(), new RetryPolicy(Duration.ofMillis(50), 2.0, Duration.ofSeconds(1), 0), outbox);
    Delivery delivery = Deliveries.to(receiver.url("/hook?a=1"), 1);

    deliver(courier, delivery).await(10, TimeUnit.SECONDS);
    resume(courier, outbox.retries.get(0), delivery).await(10, TimeUnit.SECONDS);

    assertThat(receiver.requests()).hasSize(2);
    assertThat(outbox.retries).hasSize(1);
    assertThat(outbox.written).singleElement().satisfies(letter -> {
      assertThat(letter.reason()).isEqualTo("exhausted");
      assertThat(letter.attempts()).isEqualTo(2);
      assertThat(letter.lastStatus()).hasValue(503);
      assertThat(letter.error()).contains("2 attempts").contains("503");
      assertThat(letter.accountId()).isEqualTo(Deliveries.ACCOUNT);
      assertThat(letter.clientId()).isEqualTo(Deliveries.CLIENT_ID);
      assertThat(letter.webhookKey()).isEqualTo(delivery.webhookKey());
      assertThat(letter.webhookId()).isEqualTo(delivery.webhookId());
      assertThat(letter.endpoint()).isEqualTo(receiver.url("/hook?a=1"));
      assertThat(letter.source()).isEqualTo(delivery.source());
      assertThat(letter.value()).isEqualTo(delivery.body());
    });
    assertThat(listener.events).endsWith("deadLettered exhausted");
  }

  @Test
  void aRetryWhoseAppIsGoneBecomesADeadLetterWithoutARequest() throws Exception {
    receiver.enqueue(500);
    RecordingOutbox outbox = new RecordingOutbox();
    Courier courier = courier(Deliveries.config(), ONE_SECOND_DOUBLING, outbox);
    deliver(courier, Deliveries.to(receiver.url("/hook"), 3)).await(10, TimeUnit.SECONDS);

    resume(courier, outbox.retries.get(0), null).await(10, TimeUnit.SECONDS);

    assertThat(receiver.requests()).hasSize(1);
    assertThat(outbox.written).singleElement().satisfies(letter -> {
      assertThat(letter.reason()).isEqualTo("uninstalled");
      assertThat(letter.attempts()).isEqualTo(1);
      assertThat(letter.lastStatus()).hasValue(500);
      assertThat(letter.error()).contains(Deliveries.CLIENT_ID).contains("1 attempt made").contains("HTTP 500");
    });
    assertThat(listener.events).endsWith("resumed 1", "deadLettered uninstalled");
  }

  @Test
  void aRetryWhoseAppNowAllowsFewerRetriesThanWereMadeBecomesADeadLetterWithoutARequest() throws Exception {
    receiver.enqueue(500, 500);
    RecordingOutbox outbox = new RecordingOutbox();
    Courier courier = courier(Deliveries.config(), new RetryPolicy(Duration.ofMillis(50), 2.0, Duration.ofSeconds(1), 0), outbox);
    Delivery installedWithThree = Deliveries.to(receiver.url("/hook"), 3);
    deliver(courier, installedWithThree).await(10, TimeUnit.SECONDS);
    resume(courier, outbox.retries.get(0), installedWithThree).await(10, TimeUnit.SECONDS);

    // while the second retry waits, the app is updated to max_retries 1, which the two attempts made already spent
    resume(courier, outbox.retries.get(1), Deliveries.to(receiver.url("/hook"), 1)).await(10, TimeUnit.SECONDS);

    assertThat(receiver.requests()).hasSize(2);
    assertThat(outbox.written).singleElement().satisfies(letter -> {
      assertThat(letter.reason()).isEqualTo("exhausted");
      assertThat(letter.attempts()).isEqualTo(2);
      assertThat(letter.lastStatus()).hasValue(500);
      assertThat(letter.error()).contains("max_retries is now 1").contains("2 attempts").contains("HTTP 500");
    });
    assertThat(listener.events).endsWith("resumed 2", "deadLettered exhausted");
  }

  /** A retry due a day ahead (its writer's clock ran ahead) waits no longer than the longest retry delay. */
  @Test
  void aRetryDueFarBeyondTheLongestDelayWaitsThatDelayOnly() throws Exception {
    receiver.enqueue(500, 200);
    RecordingOutbox outbox = new RecordingOutbox();
    RetryPolicy upToOneSecond = new RetryPolicy(Duration.ofMillis(50), 2.0, Duration.ofSeconds(1), 0);
    Courier courier = courier(Deliveries.config(), upToOneSecond, outbox);
    Delivery delivery = Deliveries.to(receiver.url("/hook"), 1);
    deliver(courier, delivery).await(10, TimeUnit.SECONDS);
    Retry written = outbox.retries.get(0);
    Retry dueInADay = new Retry(written.accountId(), written.clientId(), written.webhookKey(), written.webhookId(),
        written.endpoint(), written.attempts(), written.deferrals(), System.currentTimeMillis() + 86_400_000L,
        written.lastStatus(), written.lastError(), written.source(), written.body());

    resume(courier, dueInADay, delivery).await(10, TimeUnit.SECONDS);

    assertThat(receiver.requests()).hasSize(2);
    assertThat(listener.events).endsWith("resumed 1", "attempted 2 2xx", "delivered 2");
  }

  @Test
  void anAttemptThatFindsNoFreeConnectionIsDeferredWithoutSpendingAnAttemptAndDeliveredWhenResumed() throws Exception {
    receiver.enqueue(Response.delayed(Duration.ofSeconds(2), 200)); // holds the one connection for 2 s
    RecordingOutbox outbox = new RecordingOutbox();
    Courier courier = courier(ONE_CONNECTION_WAITED_FOR_ONE_SECOND, ONE_SECOND_DOUBLING, outbox);
    Delivery busy = Deliveries.to(receiver.url("/busy"), 0);
    Delivery waiting = another(Deliveries.to(receiver.url("/waiting"), 0));

    long before = System.currentTimeMillis();
    Future<Void> first = deliver(courier, busy);
    deliver(courier, waiting).await(10, TimeUnit.SECONDS);

    assertThat(first.isComplete()).as("the first still holds the connection").isFalse();
    assertThat(receiver.requests()).extracting(ReceivedRequest::uri).containsExactly("/busy");
    assertThat(outbox.written).as("max_retries 0, and yet no dead letter").isEmpty();
    Retry deferred = outbox.retries.get(0);
    assertThat(deferred.webhookId()).isEqualTo(waiting.webhookId());
    assertThat(deferred.attempts()).as("attempts made").isZero();
    assertThat(deferred.deferrals()).isEqualTo(1);
    assertThat(deferred.dueAtMillis()).isBetween(before + 2000, System.currentTimeMillis() + 1000);
    assertThat(deferred.lastStatus()).isEmpty();
    assertThat(deferred.lastError()).startsWith("no free connection to localhost within 1000 ms");
    assertThat(outbox.tiers).containsExactly(1);
    assertThat(listener.events).containsExactly("started", "started", "deferred 1 1", "retryScheduled 1");

    first.await(10, TimeUnit.SECONDS);
    resume(courier, deferred, waiting).await(10, TimeUnit.SECONDS);

    assertThat(receiver.requests()).extracting(ReceivedRequest::uri).containsExactly("/busy", "/waiting");
    assertThat(listener.events).containsExactly("started", "started", "deferred 1 1", "retryScheduled 1",
        "attempted 1 2xx", "delivered 1", "resumed 0", "attempted 1 2xx", "delivered 1");
    assertThat(outbox.retries).hasSize(1);
    assertThat(outbox.written).isEmpty();
  }

  @Test
  void heldBackOnceMoreAfterItsLastDeferralADeliveryBecomesADeadLetterWithItsAttemptsUnspent() throws Exception {
    receiver.enqueue(Response.delayed(Duration.ofSeconds(2), 200));
    RecordingOutbox outbox = new RecordingOutbox();
    Courier courier = courier(ONE_CONNECTION_WAITED_FOR_ONE_SECOND, ONE_SECOND_DOUBLING, outbox);
    Delivery busy = Deliveries.to(receiver.url("/busy"), 0);
    Delivery waiting = another(Deliveries.to(receiver.url("/waiting"), 3));
    Retry deferredToTheBound = Retry.of(waiting, 1, RetryPolicy.MAX_DEFERRALS, 0,
        Outcomes.noFreeConnection("localhost", Duration.ofSeconds(1), 1, 1));

    Future<Void> first = deliver(courier, busy);
    resume(courier, deferredToTheBound, waiting).await(10, TimeUnit.SECONDS);
    first.await(10, TimeUnit.SECONDS);

    assertThat(receiver.requests()).extracting(ReceivedRequest::uri).containsExactly("/busy");
    assertThat(outbox.retries).isEmpty();
    assertThat(outbox.written).singleElement().satisfies(letter -> {
      assertThat(letter.webhookId()).isEqualTo(waiting.webhookId());
      assertThat(letter.reason()).isEqualTo("no-free-connection");
      assertThat(letter.attempts()).as("attempts made, as before").isEqualTo(1);
      assertThat(letter.lastStatus()).isEmpty();
      assertThat(letter.error()).startsWith("never got a free connection in 9 turns (deferred 8 times), 1 attempt made;"
          + " the last turn: no free connection to localhost within 1000 ms");
    });
    assertThat(listener.events).containsExactly("started", "resumed 1", "deadLettered no-free-connection",
        "attempted 1 2xx", "delivered 1");
  }

  @Test
  void deadLettersABlockedAddressAtOnceWithoutAnyRequest() throws Exception {
    RecordingOutbox deadLetters = new RecordingOutbox();
    Courier courier = courier(Deliveries.config("DELIVERY_ALLOW_PRIVATE_NETWORKS", "false"), ONE_SECOND_DOUBLING, deadLetters);

    deliver(courier, Deliveries.to(receiver.url("/hook"), 5)).await(10, TimeUnit.SECONDS);

    assertThat(receiver.requests()).isEmpty();
    assertThat(deadLetters.written).singleElement().satisfies(letter -> {
      assertThat(letter.reason()).isEqualTo("blocked-address");
      assertThat(letter.lastStatus()).isEmpty();
      assertThat(letter.attempts()).isEqualTo(1);
    });
    assertThat(listener.events).containsExactly("started", "attempted 1 blocked-address", "deadLettered blocked-address");
  }

  @Test
  void retriesAFailedRetryWriteUntilItIsDurable() throws Exception {
    receiver.enqueue(500);
    RecordingOutbox outbox = new RecordingOutbox(2);
    Courier courier = courier(Deliveries.config(), new RetryPolicy(Duration.ofMillis(10), 2.0, Duration.ofSeconds(1), 0), outbox);

    deliver(courier, Deliveries.to(receiver.url("/"), 1)).await(10, TimeUnit.SECONDS);

    assertThat(outbox.calls).hasValue(3);
    assertThat(outbox.retries).singleElement().satisfies(retry -> assertThat(retry.attempts()).isEqualTo(1));
    assertThat(listener.events).containsExactly("started", "attempted 1 5xx", "retryScheduled 2");
  }

  @Test
  void retriesAFailedDeadLetterWriteUntilItIsDurable() throws Exception {
    receiver.enqueue(500);
    RecordingOutbox deadLetters = new RecordingOutbox(2);
    Courier courier = courier(Deliveries.config(), new RetryPolicy(Duration.ofMillis(10), 2.0, Duration.ofSeconds(1), 0), deadLetters);

    Future<Void> done = deliver(courier, Deliveries.to(receiver.url("/"), 0));

    done.await(10, TimeUnit.SECONDS);
    assertThat(deadLetters.calls).hasValue(3);
    assertThat(deadLetters.written).hasSize(1);
    assertThat(listener.events).containsExactly("started", "attempted 1 5xx", "deadLettered exhausted");
  }

  @Test
  void aRetryKafkaWillNotTakeBecomesADeadLetterAndThatOneLosesItsValue() throws Exception {
    receiver.enqueue(500);
    RecordingOutbox outbox = new RecordingOutbox().refusingValuesOver(8);
    Courier courier = courier(Deliveries.config(), new RetryPolicy(Duration.ofMillis(10), 2.0, Duration.ofSeconds(1), 0), outbox);
    Delivery delivery = Deliveries.to(receiver.url("/"), 3);

    deliver(courier, delivery).await(10, TimeUnit.SECONDS);

    assertThat(outbox.calls).as("the retry, the letter with its value, the letter without").hasValue(3);
    assertThat(outbox.retries).isEmpty();
    assertThat(outbox.written).singleElement().satisfies(letter -> {
      assertThat(letter.reason()).isEqualTo("too-large");
      assertThat(letter.attempts()).isEqualTo(1);
      assertThat(letter.lastStatus()).hasValue(500);
      assertThat(letter.webhookId()).isEqualTo(delivery.webhookId());
      assertThat(letter.value().length()).isZero();
      assertThat(letter.error())
          .contains("its retry is too large for Kafka", "500")
          .contains("its value of " + delivery.body().length() + " bytes is left out");
    });
    assertThat(listener.events).containsExactly("started", "attempted 1 5xx", "deadLettered too-large");
  }

  @Test
  void aDeadLetterKafkaWillNotTakeIsWrittenWithoutItsValue() throws Exception {
    receiver.enqueue(503);
    RecordingOutbox outbox = new RecordingOutbox().refusingValuesOver(8);
    Courier courier = courier(Deliveries.config(), new RetryPolicy(Duration.ofMillis(10), 2.0, Duration.ofSeconds(1), 0), outbox);

    deliver(courier, Deliveries.to(receiver.url("/"), 0)).await(10, TimeUnit.SECONDS);

    assertThat(outbox.calls).hasValue(2);
    assertThat(outbox.written).singleElement().satisfies(letter -> {
      assertThat(letter.reason()).isEqualTo("exhausted");
      assertThat(letter.value().length()).isZero();
      assertThat(letter.error()).contains("503", "bytes is left out", "larger than 8");
    });
    assertThat(listener.events).containsExactly("started", "attempted 1 5xx", "deadLettered exhausted");
  }

  @Test
  void closeCancelsWaitingRetriesWithoutMakingThemFinal() throws Exception {
    receiver.enqueue(500);
    RecordingOutbox outbox = new RecordingOutbox();
    Courier courier = courier(Deliveries.config(), new RetryPolicy(Duration.ofMinutes(1), 2.0, Duration.ofMinutes(1), 0), outbox);
    Delivery delivery = Deliveries.to(receiver.url("/"), 5);
    deliver(courier, delivery).await(10, TimeUnit.SECONDS);
    Future<Void> done = resume(courier, outbox.retries.get(0), delivery);
    await().atMost(Duration.ofSeconds(5)).until(() -> listener.events.contains("resumed 1"));

    courier.close();

    await().atMost(Duration.ofSeconds(2)).until(done::isComplete);
    assertThat(done.failed()).isTrue();
    assertThat(receiver.requests()).hasSize(1);
    assertThat(outbox.written).isEmpty();
    assertThat(courier.deliver(Deliveries.to(receiver.url("/"), 0)).failed()).as("no deliveries after close").isTrue();
  }

  @Test
  void anAttemptCutShortByClosingIsNotFinalAndNeverADeadLetter() throws Exception {
    receiver.enqueue(TestReceiver.Response.delayed(Duration.ofSeconds(10), 200));
    RecordingOutbox outbox = new RecordingOutbox();
    // Its own sender, as in the service: closing the courier closes the client and fails the open request.
    Courier courier = Courier.create(vertx, Deliveries.config(), outbox, listener);
    Future<Void> done = deliver(courier, Deliveries.to(receiver.url("/"), 0));
    await().atMost(Duration.ofSeconds(5)).until(() -> receiver.requests().size() == 1);

    lane.runOnContext(v -> courier.close());

    await().atMost(Duration.ofSeconds(5)).until(done::isComplete);
    assertThat(done.failed()).as("not final: another instance delivers it").isTrue();
    assertThat(outbox.written).as("max_retries 0, yet no dead letter").isEmpty();
    assertThat(outbox.retries).isEmpty();
  }

  /** The same delivery under another webhook id, as another record's would be. */
  private static Delivery another(Delivery delivery) {
    return new Delivery(delivery.webhookId() + "_another", delivery.app(), delivery.webhookKey(), delivery.webhook(),
        delivery.body(), delivery.source());
  }

  private Courier courier(Config config, RetryPolicy policy, Outbox outbox) {
    WebhookSender sender = new WebhookSender(vertx, config, HostResolver.system(vertx), Clock.systemUTC());
    return new Courier(vertx, sender, Courier.gates(vertx, config), policy, outbox, listener, () -> 0.0, Clock.systemUTC());
  }

  /** Resumes a retry from the lane's context, as a lane does; a null delivery stands for an app that is gone. */
  private Future<Void> resume(Courier courier, Retry retry, Delivery delivery) {
    Promise<Void> done = Promise.promise();
    lane.runOnContext(v -> courier.resume(retry, Optional.ofNullable(delivery)).onComplete(done));
    return done.future();
  }

  /** Delivers from the lane's context, as intake does. */
  private Future<Void> deliver(Courier courier, Delivery delivery) {
    Promise<Void> done = Promise.promise();
    lane.runOnContext(v -> courier.deliver(delivery).onComplete(done));
    return done.future();
  }
}
