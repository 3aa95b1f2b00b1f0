package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.TestNameServer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CachingHostResolverTest {
  private static final byte[] EXAMPLE = {93, (byte) 184, (byte) 216, 34};
  private static Vertx vertx;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void keepsAnAnswerForItsTimeToLive() throws Exception {
    AtomicInteger lookups = new AtomicInteger();
    HostResolver resolver =
        new CachingHostResolver(vertx, Duration.ofMinutes(1), HostResolver.LOOKUP_DEADLINE, host -> {
          lookups.incrementAndGet();
          return Future.succeededFuture(List.of(address(host, EXAMPLE)));
        });
    assertThat(resolver.resolve("hooks.example").await(5, TimeUnit.SECONDS)).hasSize(1);
    assertThat(resolver.resolve("HOOKS.example").await(5, TimeUnit.SECONDS)).hasSize(1);
    assertThat(lookups).hasValue(1);
  }

  @Test
  void asksAgainAfterTheTimeToLiveAndAfterAFailure() throws Exception {
    AtomicInteger lookups = new AtomicInteger();
    HostResolver resolver =
        new CachingHostResolver(vertx, Duration.ZERO, HostResolver.LOOKUP_DEADLINE, host -> {
          if (lookups.incrementAndGet() == 1) {
            return Future.failedFuture(new UnknownHostException(host));
          }
          return Future.succeededFuture(List.of(address(host, EXAMPLE)));
        });
    assertThatThrownBy(() -> resolver.resolve("late.example").await(5, TimeUnit.SECONDS)).isInstanceOf(UnknownHostException.class);
    resolver.resolve("late.example").await(5, TimeUnit.SECONDS);
    resolver.resolve("late.example").await(5, TimeUnit.SECONDS);
    assertThat(lookups).hasValue(3);
  }

  /**
   * Lanes share the cache, and each must carry on on its own event loop: a callback on another lane's thread raced
   * with that lane's offset tracking and committed past undelivered records (load test, 7 events lost).
   */
  @Test
  void handsEveryCallerTheAnswerOnItsOwnContext() throws Exception {
    Promise<List<InetAddress>> slowLookup = Promise.promise();
    HostResolver resolver =
        new CachingHostResolver(vertx, Duration.ofMinutes(1), HostResolver.LOOKUP_DEADLINE, host -> slowLookup.future());
    Context first = vertx.getOrCreateContext();
    Context second = vertx.getOrCreateContext();
    assertThat(first).isNotSameAs(second);
    List<Future<Boolean>> onOwnContext = new ArrayList<>();
    for (Context caller : List.of(first, second)) { // the second joins the first's lookup while it is in flight
      onOwnContext.add(onContext(caller, () -> resolver.resolve("hooks.example").map(a -> Vertx.currentContext() == caller)));
    }
    slowLookup.complete(List.of(address("hooks.example", EXAMPLE)));
    onOwnContext.add(onContext(second, () -> resolver.resolve("hooks.example").map(a -> Vertx.currentContext() == second)));
    for (Future<Boolean> each : onOwnContext) {
      assertThat(each.await(5, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * A dead name server holds a lookup for 5 s or more. Its callers fail at the deadline, and it stays the host's one
   * lookup until it ends: a caller after the deadline fails at once, without a lookup of its own. Its late answer is
   * kept.
   */
  @Test
  void failsCallersAtTheDeadlineWhileTheHungLookupStaysTheOnlyOne() throws Exception {
    AtomicInteger lookups = new AtomicInteger();
    Promise<List<InetAddress>> deadNameServer = Promise.promise();
    HostResolver resolver =
        new CachingHostResolver(vertx, Duration.ofMinutes(1), Duration.ofMillis(100), host -> {
          lookups.incrementAndGet();
          return deadNameServer.future();
        });
    Future<List<InetAddress>> first = resolver.resolve("hooks.example");
    Future<List<InetAddress>> second = resolver.resolve("HOOKS.example"); // joins the first's lookup

    for (Future<List<InetAddress>> caller : List.of(first, second)) {
      assertThatThrownBy(() -> caller.await(5, TimeUnit.SECONDS))
          .isInstanceOf(HostResolver.LookupTimeoutException.class)
          .hasMessage("DNS lookup for hooks.example took longer than 100 ms");
    }
    assertThatThrownBy(() -> resolver.resolve("hooks.example").await(5, TimeUnit.SECONDS))
        .isInstanceOf(HostResolver.LookupTimeoutException.class);
    assertThat(lookups).hasValue(1);

    deadNameServer.complete(List.of(address("hooks.example", EXAMPLE)));
    await().atMost(Duration.ofSeconds(5))
        .ignoreExceptionsInstanceOf(HostResolver.LookupTimeoutException.class)
        .untilAsserted(() -> assertThat(resolver.resolve("hooks.example").await(5, TimeUnit.SECONDS)).hasSize(1));
    assertThat(lookups).hasValue(1);
  }

  /** Through a real name server: Vert.x's resolver needs no thread, so it answers while the only worker is busy. */
  @Test
  void looksUpThroughANameServerWithoutAWorkerThread() throws Exception {
    try (TestNameServer dns = TestNameServer.answering(Map.of("hooks.example", address("hooks.example", EXAMPLE)))) {
      Vertx resolving = resolvingThrough(dns);
      CountDownLatch release = new CountDownLatch(1);
      try {
        resolving.executeBlocking(() -> release.await(10, TimeUnit.SECONDS)); // the only worker thread, taken
        HostResolver resolver = new CachingHostResolver(
            resolving, Duration.ofMinutes(1), HostResolver.LOOKUP_DEADLINE, CachingHostResolver.dns(resolving));

        assertThat(resolver.resolve("hooks.example").await(5, TimeUnit.SECONDS))
            .extracting(InetAddress::getHostAddress).containsExactly("93.184.216.34");
        assertThatThrownBy(() -> resolver.resolve("nowhere.example").await(5, TimeUnit.SECONDS))
            .isInstanceOf(UnknownHostException.class).hasMessageContaining("nowhere.example");
      } finally {
        release.countDown();
        resolving.close().await(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * With the name server dead, every lookup fails at its deadline and none holds a thread: the only worker runs a task
   * while twenty hosts' queries go unanswered. (The JDK's blocking lookup held a worker thread per host for 10 s.) The
   * service's resolver settings let a query outlast the deadline, so a hung lookup stays its host's only one: callers
   * after the deadline fail at once, without new queries.
   */
  @Test
  void aDeadNameServerFailsEachLookupAtItsDeadlineAndHoldsNoThread() throws Exception {
    assertThat(HostResolver.resolverOptions().getQueryTimeout()).isGreaterThan(HostResolver.LOOKUP_DEADLINE.toMillis());
    try (TestNameServer dns = TestNameServer.answering(Map.of())) {
      dns.goSilent();
      Vertx resolving = resolvingThrough(dns);
      try {
        HostResolver resolver = new CachingHostResolver(
            resolving, Duration.ofMinutes(1), Duration.ofMillis(200), CachingHostResolver.dns(resolving));
        List<String> hosts = IntStream.range(0, 20).mapToObj(i -> "host" + i + ".example").toList();
        List<Future<List<InetAddress>>> lookups = hosts.stream().map(resolver::resolve).toList();

        assertThat(resolving.executeBlocking(() -> "ran").await(5, TimeUnit.SECONDS)).isEqualTo("ran");
        for (Future<List<InetAddress>> lookup : lookups) {
          assertThatThrownBy(() -> lookup.await(5, TimeUnit.SECONDS))
              .isInstanceOf(HostResolver.LookupTimeoutException.class);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> dns.queries() >= hosts.size());
        int asked = dns.queries();
        for (String host : hosts) {
          assertThatThrownBy(() -> resolver.resolve(host).await(5, TimeUnit.SECONDS))
              .isInstanceOf(HostResolver.LookupTimeoutException.class);
        }
        assertThat(dns.queries()).isEqualTo(asked);
      } finally {
        resolving.close().await(10, TimeUnit.SECONDS);
      }
    }
  }

  /** A Vert.x instance with the service's resolver settings, asking {@code dns} alone, and one worker thread. */
  private static Vertx resolvingThrough(TestNameServer dns) {
    return Vertx.vertx(new VertxOptions().setWorkerPoolSize(1)
        .setAddressResolverOptions(dns.pointing(HostResolver.resolverOptions())));
  }

  private static InetAddress address(String host, byte[] ip) {
    try {
      return InetAddress.getByAddress(host, ip);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static <T> Future<T> onContext(Context context, Supplier<Future<T>> action) {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(result));
    return result.future();
  }

  @Test
  void answersIpLiteralsWithoutALookup() {
    HostResolver resolver = HostResolver.literalsFirst(host -> { throw new AssertionError("looked up " + host); });
    assertThat(resolver.resolve("[::1]").result()).extracting(InetAddress::getHostAddress).containsExactly("0:0:0:0:0:0:0:1");
    assertThat(resolver.resolve("10.0.0.1").result()).extracting(InetAddress::getHostAddress).containsExactly("10.0.0.1");
    assertThat(HostResolver.literal("hooks.example")).isEmpty();
  }
}
