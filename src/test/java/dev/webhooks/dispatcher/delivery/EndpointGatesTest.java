package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EndpointGatesTest {
  private static final String HOST = "hooks.example.com";
  private static final String URL = "https://hooks.example.com/a";
  private static final String SAME_ORIGIN = "https://hooks.example.com:443/b?x=1";
  private static final String OTHER_PORT = "https://hooks.example.com:8443/a";
  private static final Duration LONG_WAIT = Duration.ofSeconds(30);
  private static final Duration OPEN_FOR = Duration.ofSeconds(30);
  private static final DeliveryOutcome TIMED_OUT = Outcomes.timedOut(HOST, Duration.ofSeconds(5));
  private static final DeliveryOutcome SERVER_ERROR = Outcomes.ofStatus(500, null, HOST, Instant.EPOCH);
  private static final DeliveryOutcome DELIVERED = new DeliveryOutcome.Delivered(200);
  /** Longer than {@link EndpointGates#FAST_ANSWER}. */
  private static final Duration SLOW = Duration.ofMillis(30);
  private static final DeliveryOutcome BLOCKED =
      new DeliveryOutcome.PermanentFailure(OptionalInt.empty(), Outcomes.BLOCKED_ADDRESS, HOST + " is private");
  private static Vertx vertx;

  /** The injected clock, moved by hand where no timer is involved. */
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final List<String> started = new CopyOnWriteArrayList<>();
  private Context context;
  private EndpointGates gates;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void oneContext() {
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void closeGates() {
    onContext(() -> {
      gates.close();
      return null;
    });
  }

  @Test
  void capsAttemptsInFlightPerOriginAndStartsWaitersInOrder() {
    gates = gates(2, LONG_WAIT, 5, clock::get);
    FakeAttempt a1 = new FakeAttempt("a1");
    FakeAttempt a2 = new FakeAttempt("a2");
    Future<DeliveryOutcome> first = submit(URL, a1);
    Future<DeliveryOutcome> second = submit(SAME_ORIGIN, a2);
    Future<DeliveryOutcome> third = submit(URL, new FakeAttempt("a3"));
    Future<DeliveryOutcome> fourth = submit(SAME_ORIGIN, new FakeAttempt("a4"));
    submit(OTHER_PORT, new FakeAttempt("b1"));
    assertThat(started).containsExactly("a1", "a2", "b1");

    a1.end(DELIVERED);
    assertThat(started).containsExactly("a1", "a2", "b1", "a3");
    assertThat(outcome(first)).isEqualTo(DELIVERED);

    a2.end(SERVER_ERROR);
    assertThat(started).containsExactly("a1", "a2", "b1", "a3", "a4");
    assertThat(outcome(second)).isEqualTo(SERVER_ERROR);
    assertThat(isComplete(third)).isFalse();
    assertThat(isComplete(fourth)).isFalse();
  }

  @Test
  void anOriginStartsWithTwoAttemptsAndGetsOneMoreWithEachAnswerUpToTheCap() {
    gates = gates(4, LONG_WAIT, 2, clock::get);
    List<FakeAttempt> attempts = submitEach("a1", "a2", "a3", "a4", "a5", "a6");
    assertThat(started).containsExactly("a1", "a2");

    attempts.get(0).end(SERVER_ERROR); // an answer, even a 500: the limit grows to 3, so 2 may start
    assertThat(started).containsExactly("a1", "a2", "a3", "a4");
    attempts.get(1).end(TIMED_OUT); // no answer: the limit stays, the slot goes to the next
    assertThat(started).containsExactly("a1", "a2", "a3", "a4", "a5");
    attempts.get(2).end(DELIVERED); // the limit is 4, the cap
    attempts.get(3).end(DELIVERED);
    assertThat(started).containsExactly("a1", "a2", "a3", "a4", "a5", "a6");
    submitEach("a7", "a8", "a9");
    assertThat(started).as("never past the cap").containsExactly("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8");
  }

  @Test
  void aBurstOpensAFewConnectionsAtOnceAndWaitsForTheOpenOnesOtherwise() {
    gates = gates(32, LONG_WAIT, 2, clock::get);
    for (int i = 0; i < 40; i++) { // 1.2 s of answers that take 30 ms: a slow origin, which may get 32 at once
      runAndEnd(URL, "one-at-a-time-" + i, DELIVERED, SLOW); // the limit reaches 32; one connection was ever needed
    }
    started.clear();
    List<FakeAttempt> burst = submitEach("b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10");
    assertThat(started).as("one on the open connection, and MAX_OPENING opening new ones")
        .containsExactly("b1", "b2", "b3", "b4", "b5");

    clock.addAndGet(SLOW.toNanos()); // the origin stays slow
    burst.get(1).end(DELIVERED); // answered: its new connection is free for the next, and one more may open
    assertThat(started).containsExactly("b1", "b2", "b3", "b4", "b5", "b6", "b7");
    burst.get(0).end(DELIVERED); // the first connection is free: the next takes it, opening none
    assertThat(started).containsExactly("b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8");
    burst.get(2).end(TIMED_OUT); // no answer, so no connection to count; its turn to open one goes to the next
    assertThat(started).containsExactly("b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9");
  }

  @Test
  void aFastOriginGetsFourAttemptsAtOnceHoweverManyWait() {
    gates = gates(32, LONG_WAIT, 2, clock::get);
    for (int i = 0; i < 40; i++) {
      runAndEnd(URL, "one-at-a-time-" + i, DELIVERED, Duration.ofMillis(2)); // the limit reaches 32
    }
    started.clear();
    List<FakeAttempt> burst = submitEach("b1", "b2", "b3", "b4", "b5", "b6");
    assertThat(started).as("one on the open connection, three opening").containsExactly("b1", "b2", "b3", "b4");

    burst.get(0).end(DELIVERED);
    assertThat(started).as("never a fifth at once").containsExactly("b1", "b2", "b3", "b4", "b5");
  }

  @Test
  void anOriginIsSlowOnceAWholePeriodOfItsAnswersTookLongAndFastAgainAfterAQuickOne() {
    gates = gates(32, LONG_WAIT, 2, clock::get);
    for (int i = 0; i < 20; i++) { // 0.6 s of answers that take 30 ms, as in a cold start: not yet a slow origin
      runAndEnd(URL, "cold-" + i, DELIVERED, SLOW);
    }
    started.clear();
    List<FakeAttempt> burst = submitEach("b1", "b2", "b3", "b4", "b5");
    assertThat(started).containsExactly("b1", "b2", "b3", "b4");
    clock.addAndGet(SLOW.toNanos());
    burst.subList(0, 4).forEach(attempt -> attempt.end(DELIVERED)); // b5 runs on b1's connection
    clock.addAndGet(SLOW.toNanos());
    burst.get(4).end(DELIVERED);
    for (int i = 0; i < 20; i++) { // another 0.6 s: a whole period of slow answers has passed
      runAndEnd(URL, "slow-" + i, DELIVERED, SLOW);
    }
    started.clear();
    List<FakeAttempt> slow = submitEach("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9");
    assertThat(started).as("four on the open connections, MAX_OPENING opening")
        .containsExactly("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8");

    clock.addAndGet(Duration.ofMillis(1).toNanos());
    slow.get(0).end(DELIVERED); // one quick answer: a fast origin again, which has 7 running
    assertThat(started).doesNotContain("c9");
  }

  @Test
  void anOpenedCircuitStartsTheOriginAgainFromTwoAttempts() {
    gates = gates(4, LONG_WAIT, 2, clock::get);
    for (int i = 0; i < 3; i++) {
      runAndEnd(URL, "warm-" + i, DELIVERED); // the limit reaches the cap of 4
    }
    openCircuit();
    clock.addAndGet(OPEN_FOR.toNanos());
    runAndEnd(URL, "probe", DELIVERED); // closes the circuit: the limit is 3 now (2, and one for the probe's answer)
    started.clear();
    submitEach("b1", "b2", "b3", "b4");
    assertThat(started).containsExactly("b1", "b2", "b3");
  }

  @Test
  void aWaiterWithoutASlotWithinMaxWaitFailsWithoutBeingTried() {
    gates = gates(1, Duration.ofMillis(200), 1, System::nanoTime);
    FakeAttempt running = new FakeAttempt("running");
    submit(URL, running);
    long before = System.nanoTime();
    Future<DeliveryOutcome> first = submit(URL, new FakeAttempt("w1"));
    Future<DeliveryOutcome> second = submit(SAME_ORIGIN, new FakeAttempt("w2"));

    await().atMost(Duration.ofSeconds(5)).until(() -> isComplete(first) && isComplete(second));

    assertThat(Duration.ofNanos(System.nanoTime() - before)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    assertThat(outcome(first)).isEqualTo(retryable("no-free-connection",
        "no free connection to hooks.example.com within 200 ms (1 attempts in flight, 2 waiting)"));
    assertThat(outcome(second)).isEqualTo(retryable("no-free-connection",
        "no free connection to hooks.example.com within 200 ms (1 attempts in flight, 1 waiting)"));
    // queue timeouts never count toward opening, even with failuresToOpen 1: the next submission waits for a slot
    FakeAttempt next = new FakeAttempt("next");
    Future<DeliveryOutcome> later = submit(URL, next);
    running.end(DELIVERED);
    assertThat(started).containsExactly("running", "next");
    next.end(DELIVERED);
    assertThat(outcome(later)).isEqualTo(DELIVERED);
  }

  @Test
  void aWaiterOutOfTimeAfterUnansweredAttemptsCountsAsFailedNotBusy() {
    gates = gates(1, Duration.ofMillis(200), 5, System::nanoTime);
    runAndEnd(URL, "timeout", TIMED_OUT); // one without an answer: not yet enough to open the circuit
    FakeAttempt running = new FakeAttempt("running");
    submit(URL, running);
    Future<DeliveryOutcome> waiting = submit(URL, new FakeAttempt("w1"));

    await().atMost(Duration.ofSeconds(5)).until(() -> isComplete(waiting));

    assertThat(outcome(waiting)).isEqualTo(retryable("connect-timeout", "no free connection to hooks.example.com"
        + " within 200 ms, and its last 1 attempts failed without an answer (last: hooks.example.com did not answer"
        + " within 5000 ms)"));
    running.end(DELIVERED);
  }

  @Test
  void aTimerLeftArmedByAnEarlierWaiterDoesNotCutALaterOneShort() {
    Duration maxWait = Duration.ofMillis(300);
    gates = gates(1, maxWait, 1, System::nanoTime);
    FakeAttempt running = new FakeAttempt("running");
    submit(URL, running);
    long firstQueued = System.nanoTime();
    FakeAttempt early = new FakeAttempt("early");
    Future<DeliveryOutcome> first = submit(URL, early);
    running.end(DELIVERED); // the queue empties; the timer armed for "early" stays armed
    assertThat(started).containsExactly("running", "early");
    await().atMost(Duration.ofSeconds(5)).until(() -> System.nanoTime() - firstQueued >= maxWait.toNanos() / 2);

    long laterQueued = System.nanoTime();
    Future<DeliveryOutcome> later = submit(URL, new FakeAttempt("later"));
    await().atMost(Duration.ofSeconds(5)).until(() -> isComplete(later));

    // the old timer fired at the first deadline, found nothing due and armed one for the later waiter's own
    assertThat(Duration.ofNanos(System.nanoTime() - laterQueued)).isGreaterThanOrEqualTo(maxWait);
    assertThat(outcome(later)).isEqualTo(retryable("no-free-connection",
        "no free connection to hooks.example.com within 300 ms (1 attempts in flight, 1 waiting)"));
    early.end(DELIVERED);
    assertThat(outcome(first)).isEqualTo(DELIVERED);
  }

  @Test
  void failuresWithoutAnAnswerInARowOpenTheCircuitForWaitersAndNewSubmissions() {
    gates = gates(2, LONG_WAIT, 2, clock::get);
    List<FakeAttempt> running = submitEach("a1", "a2", "a3");
    Future<DeliveryOutcome> waiting = submit(URL, new FakeAttempt("a4"));

    running.get(0).end(TIMED_OUT); // a3 takes the slot
    assertThat(isComplete(waiting)).isFalse();
    running.get(1).end(TIMED_OUT);

    DeliveryOutcome notTried = retryable("circuit-open", "hooks.example.com not tried: its last 2 attempts failed"
        + " without an answer (last: hooks.example.com did not answer within 5000 ms); next try in about 30 s");
    assertThat(outcome(waiting)).isEqualTo(notTried);
    assertThat(outcome(submit(URL, new FakeAttempt("a5")))).isEqualTo(notTried);
    assertThat(outcome(submit(SAME_ORIGIN, new FakeAttempt("a6")))).isEqualTo(notTried);
    submit(OTHER_PORT, new FakeAttempt("b1"));
    assertThat(started).containsExactly("a1", "a2", "a3", "b1");

    // an attempt already running when the circuit opened does not extend it
    clock.addAndGet(Duration.ofSeconds(10).toNanos());
    running.get(2).end(TIMED_OUT);
    clock.addAndGet(Duration.ofSeconds(20).toNanos());
    submit(URL, new FakeAttempt("probe"));
    assertThat(started).containsExactly("a1", "a2", "a3", "b1", "probe");
  }

  @Test
  void anAnswerResetsTheCountAndARefusalByPolicyNeitherCountsNorResets() {
    gates = gates(1, LONG_WAIT, 2, clock::get);
    runAndEnd(URL, "timeout-1", TIMED_OUT);
    runAndEnd(URL, "http-500", SERVER_ERROR);
    runAndEnd(URL, "timeout-2", TIMED_OUT);
    runAndEnd(URL, "blocked", BLOCKED);
    assertThat(started).containsExactly("timeout-1", "http-500", "timeout-2", "blocked");

    runAndEnd(URL, "timeout-3", TIMED_OUT); // second in a row, the refusal between did not reset
    assertThat(reason(submit(URL, new FakeAttempt("refused")))).isEqualTo("circuit-open");
    assertThat(started).doesNotContain("refused");
  }

  @Test
  void afterOpenForOneProbeRunsAndTheOthersWaitForItsAnswer() {
    gates = gates(2, LONG_WAIT, 2, clock::get); // a free slot is not enough to run a second probe
    openCircuit();
    clock.addAndGet(Duration.ofSeconds(29).toNanos());
    assertThat(error(submit(URL, new FakeAttempt("early")))).endsWith("next try in about 1 s");

    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    FakeAttempt probe = new FakeAttempt("probe");
    Future<DeliveryOutcome> probed = submit(URL, probe);
    FakeAttempt duringProbe = new FakeAttempt("during-probe");
    Future<DeliveryOutcome> held = submit(URL, duringProbe);
    FakeAttempt alsoDuringProbe = new FakeAttempt("also-during-probe");
    Future<DeliveryOutcome> alsoHeld = submit(URL, alsoDuringProbe);
    assertThat(reason(submit(URL, new FakeAttempt("one-too-many")))).isEqualTo("circuit-open"); // maxInFlight wait
    assertThat(isComplete(held)).isFalse();
    assertThat(isComplete(alsoHeld)).isFalse();
    assertThat(started).containsExactly("timeout-1", "timeout-2", "probe");

    probe.end(SERVER_ERROR); // any status is an answer: the circuit closes and the held attempts start
    assertThat(outcome(probed)).isEqualTo(SERVER_ERROR);
    assertThat(started).containsExactly("timeout-1", "timeout-2", "probe", "during-probe", "also-during-probe");
    duringProbe.end(DELIVERED);
    alsoDuringProbe.end(DELIVERED);
    assertThat(outcome(held)).isEqualTo(DELIVERED);
    assertThat(outcome(alsoHeld)).isEqualTo(DELIVERED);

    FakeAttempt next = new FakeAttempt("next");
    submit(URL, next);
    submit(URL, new FakeAttempt("next-too"));
    Future<DeliveryOutcome> queued = submit(URL, new FakeAttempt("queued")); // waiting resumes normally
    assertThat(isComplete(queued)).isFalse();
    next.end(DELIVERED);
    assertThat(started).endsWith("next", "next-too", "queued");
  }

  @Test
  void aProbeWithoutAnAnswerReopensTheCircuitAndFailsTheAttemptsWaitingForIt() {
    gates = gates(1, LONG_WAIT, 2, clock::get);
    openCircuit();
    clock.addAndGet(OPEN_FOR.toNanos());
    FakeAttempt probe = new FakeAttempt("probe-1");
    submit(URL, probe);
    Future<DeliveryOutcome> held = submit(URL, new FakeAttempt("during-probe"));
    probe.end(TIMED_OUT);

    assertThat(error(held)).startsWith("hooks.example.com not tried: its last 3 attempts failed without an answer")
        .endsWith("next try in about 30 s");
    assertThat(error(submit(URL, new FakeAttempt("refused"))))
        .startsWith("hooks.example.com not tried: its last 3 attempts failed without an answer")
        .endsWith("next try in about 30 s");
    clock.addAndGet(OPEN_FOR.minusSeconds(1).toNanos());
    assertThat(reason(submit(URL, new FakeAttempt("still-refused")))).isEqualTo("circuit-open");
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    submit(URL, new FakeAttempt("probe-2"));
    assertThat(started).containsExactly("timeout-1", "timeout-2", "probe-1", "probe-2");
  }

  @Test
  void anAttemptWaitingForTheProbeLongerThanMaxWaitIsRefusedByTheCircuitNotForWantOfAConnection() {
    // open for no time: half-open at once
    gates = new EndpointGates(vertx, 2, Duration.ofMillis(200), 1, Duration.ZERO, System::nanoTime);
    runAndEnd(URL, "timeout", TIMED_OUT);
    FakeAttempt probe = new FakeAttempt("probe");
    Future<DeliveryOutcome> probed = submit(URL, probe);
    Future<DeliveryOutcome> held = submit(URL, new FakeAttempt("during-probe"));

    await().atMost(Duration.ofSeconds(5)).until(() -> isComplete(held));

    assertThat(outcome(held)).isEqualTo(retryable("circuit-open", "hooks.example.com not tried: its last 1 attempts"
        + " failed without an answer (last: hooks.example.com did not answer within 5000 ms), and the probe sent since"
        + " has not answered within 200 ms"));
    assertThat(started).containsExactly("timeout", "probe");
    probe.end(DELIVERED);
    assertThat(outcome(probed)).isEqualTo(DELIVERED);
  }

  @Test
  void theProbeWaitsForTheAttemptsStillRunningFromBeforeTheCircuitOpened() {
    gates = gates(4, LONG_WAIT, 2, clock::get);
    runAndEnd(URL, "warm-1", DELIVERED);
    runAndEnd(URL, "warm-2", DELIVERED); // the limit reaches the cap of 4
    List<FakeAttempt> running = submitEach("s1", "s2", "s3", "s4");
    running.get(0).end(TIMED_OUT);
    running.get(1).end(TIMED_OUT); // the circuit opens, its limit is 2 again, and s3 and s4 still run
    clock.addAndGet(OPEN_FOR.toNanos());

    FakeAttempt first = new FakeAttempt("first");
    Future<DeliveryOutcome> probed = submit(URL, first);
    Future<DeliveryOutcome> second = submit(URL, new FakeAttempt("second"));
    assertThat(started).doesNotContain("first");
    running.get(2).end(TIMED_OUT); // not a probe: it neither extends the circuit nor closes it, and frees a slot
    assertThat(started).endsWith("first");

    first.end(DELIVERED);
    assertThat(outcome(probed)).isEqualTo(DELIVERED);
    assertThat(started).endsWith("first", "second");
    assertThat(isComplete(second)).isFalse();
  }

  @Test
  void circuitOpenOutcomesNeitherCountNorExtendTheOpenPeriod() {
    gates = gates(1, LONG_WAIT, 2, clock::get);
    openCircuit();
    clock.addAndGet(Duration.ofSeconds(10).toNanos());
    for (int i = 0; i < 3; i++) {
      assertThat(error(submit(URL, new FakeAttempt("refused")))).contains("its last 2 attempts", "about 20 s");
    }
    clock.addAndGet(Duration.ofSeconds(20).toNanos());
    submit(URL, new FakeAttempt("probe"));
    assertThat(started).containsExactly("timeout-1", "timeout-2", "probe");
  }

  @Test
  void closeFailsWaitersAndLaterSubmissionsButLetsRunningAttemptsFinish() {
    gates = gates(1, LONG_WAIT, 5, clock::get);
    FakeAttempt running = new FakeAttempt("running");
    Future<DeliveryOutcome> ran = submit(URL, running);
    Future<DeliveryOutcome> waiting = submit(URL, new FakeAttempt("waiting"));

    onContext(() -> {
      gates.close();
      return null;
    });

    assertThat(failure(waiting)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThat(failure(submit(OTHER_PORT, new FakeAttempt("after-close")))).isInstanceOf(IllegalStateException.class);
    running.end(DELIVERED);
    assertThat(outcome(ran)).isEqualTo(DELIVERED);
    assertThat(started).containsExactly("running");
  }

  @Test
  void anAttemptThatThrowsOrFailsIsAnIoErrorAndFreesItsSlot() {
    gates = gates(1, LONG_WAIT, 5, clock::get);
    Supplier<Future<DeliveryOutcome>> throwing = () -> {
      throw new IllegalStateException("bug");
    };
    assertThat(outcome(onContext(() -> gates.submit(URL, throwing))))
        .isEqualTo(retryable("io-error", "hooks.example.com: bug"));
    Supplier<Future<DeliveryOutcome>> failing = () -> Future.failedFuture(new IllegalStateException("bug"));
    assertThat(reason(onContext(() -> gates.submit(URL, failing)))).isEqualTo("io-error");

    submit(URL, new FakeAttempt("next"));
    assertThat(started).containsExactly("next");
  }

  @Test
  void keepsAtMostEndpointsKeptUrlsAndForgetsOnlyOriginsThatHoldNothing() {
    gates = gates(2, LONG_WAIT, 2, clock::get);
    openCircuit();
    FakeAttempt stillRunning = new FakeAttempt("still-running");
    submit(OTHER_PORT, stillRunning);

    int urls = EndpointGates.ENDPOINTS_KEPT + 1_000;
    for (int i = 0; i < urls; i++) { // a token per installation in the query string, ten per origin
      runAndEnd("https://idle-" + i / 10 + ".example.com/hook?token=" + i, "idle-" + i, DELIVERED);
    }

    // forgotten once ENDPOINTS_KEPT were kept: about the last 1,000 URLs are kept, and their 100 origins besides the
    // two that hold something (without forgetting: 11,002 URLs and 1,102 origins)
    assertThat(onContext(() -> gates.endpointsKept())).isBetween(1_000, 1_010);
    assertThat(onContext(() -> gates.originsKept())).isBetween(1_000 / 10 + 2, 1_000 / 10 + 3);
    // the origin with an open circuit and the one with an attempt running kept what they hold
    assertThat(reason(submit(URL, new FakeAttempt("still-refused")))).isEqualTo("circuit-open");
    submit(OTHER_PORT, new FakeAttempt("beside-it"));
    submit(OTHER_PORT, new FakeAttempt("waits-for-a-slot")); // 2 at once: still-running holds the other
    assertThat(started).last().isEqualTo("beside-it");
    stillRunning.end(DELIVERED);
    assertThat(started).last().isEqualTo("waits-for-a-slot");
  }

  @Test
  void anUnparsableEndpointIsNotGated() {
    gates = gates(1, LONG_WAIT, 1, clock::get);
    submit("http://hooks.example.com/", new FakeAttempt("plain-http"));
    submit("http://hooks.example.com/", new FakeAttempt("plain-http-again"));
    assertThat(started).containsExactly("plain-http", "plain-http-again");
  }

  private EndpointGates gates(int maxInFlight, Duration maxWait, int failuresToOpen, LongSupplier nanoTime) {
    return new EndpointGates(vertx, maxInFlight, maxWait, failuresToOpen, OPEN_FOR, nanoTime);
  }

  private void openCircuit() {
    runAndEnd(URL, "timeout-1", TIMED_OUT);
    runAndEnd(URL, "timeout-2", TIMED_OUT);
    assertThat(reason(submit(URL, new FakeAttempt("refused")))).isEqualTo("circuit-open");
  }

  private void runAndEnd(String url, String name, DeliveryOutcome outcome) {
    runAndEnd(url, name, outcome, Duration.ZERO);
  }

  /** Runs one attempt that ends with {@code outcome} after {@code took} on the injected clock. */
  private void runAndEnd(String url, String name, DeliveryOutcome outcome, Duration took) {
    FakeAttempt attempt = new FakeAttempt(name);
    Future<DeliveryOutcome> result = submit(url, attempt);
    clock.addAndGet(took.toNanos());
    attempt.end(outcome);
    assertThat(outcome(result)).isEqualTo(outcome);
  }

  /** Submits one attempt per name to {@link #URL}, in order. */
  private List<FakeAttempt> submitEach(String... names) {
    List<FakeAttempt> attempts = new ArrayList<>();
    for (String name : names) {
      FakeAttempt attempt = new FakeAttempt(name);
      attempts.add(attempt);
      submit(URL, attempt);
    }
    return attempts;
  }

  private Future<DeliveryOutcome> submit(String url, FakeAttempt attempt) {
    return onContext(() -> gates.submit(url, attempt));
  }

  private boolean isComplete(Future<?> future) {
    return onContext(future::isComplete);
  }

  private DeliveryOutcome outcome(Future<DeliveryOutcome> future) {
    assertThat(isComplete(future)).as("completed").isTrue();
    return onContext(future::result);
  }

  private Throwable failure(Future<DeliveryOutcome> future) {
    assertThat(onContext(future::failed)).as("failed").isTrue();
    return onContext(future::cause);
  }

  private String reason(Future<DeliveryOutcome> future) {
    return ((DeliveryOutcome.RetryableFailure) outcome(future)).reason();
  }

  private String error(Future<DeliveryOutcome> future) {
    return ((DeliveryOutcome.RetryableFailure) outcome(future)).error();
  }

  private static DeliveryOutcome retryable(String reason, String error) {
    return new DeliveryOutcome.RetryableFailure(OptionalInt.empty(), reason, error, Optional.empty());
  }

  /** Runs {@code action} on the gates' context, as a lane would, and returns its result. */
  private <T> T onContext(Callable<T> action) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> {
      try {
        done.complete(action.call());
      } catch (Exception e) {
        done.fail(e);
      }
    });
    try {
      return done.future().await(5, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("the context did not run the action", e);
    }
  }

  /** An attempt that records its start and ends when the test says, on the gates' context. */
  private final class FakeAttempt implements Supplier<Future<DeliveryOutcome>> {
    private final String name;
    private Promise<DeliveryOutcome> running;

    FakeAttempt(String name) {
      this.name = name;
    }

    @Override
    public Future<DeliveryOutcome> get() {
      started.add(name);
      running = Promise.promise();
      return running.future();
    }

    void end(DeliveryOutcome outcome) {
      onContext(() -> {
        running.complete(outcome);
        return null;
      });
    }
  }
}
