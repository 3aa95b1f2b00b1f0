package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CachingHostResolverTest {
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
          return List.of(InetAddress.getByAddress(host, new byte[] {93, (byte) 184, (byte) 216, 34}));
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
            throw new UnknownHostException(host);
          }
          return List.of(InetAddress.getByAddress(host, new byte[] {8, 8, 8, 8}));
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
    CompletableFuture<Void> slowLookup = new CompletableFuture<>();
    HostResolver resolver =
        new CachingHostResolver(vertx, Duration.ofMinutes(1), HostResolver.LOOKUP_DEADLINE, host -> {
          slowLookup.join();
          return List.of(InetAddress.getByAddress(host, new byte[] {93, (byte) 184, (byte) 216, 34}));
        });
    Context first = vertx.getOrCreateContext();
    Context second = vertx.getOrCreateContext();
    assertThat(first).isNotSameAs(second);
    List<Future<Boolean>> onOwnContext = new ArrayList<>();
    for (Context caller : List.of(first, second)) { // the second joins the first's lookup while it is in flight
      onOwnContext.add(onContext(caller, () -> resolver.resolve("hooks.example").map(a -> Vertx.currentContext() == caller)));
    }
    slowLookup.complete(null);
    onOwnContext.add(onContext(second, () -> resolver.resolve("hooks.example").map(a -> Vertx.currentContext() == second)));
    for (Future<Boolean> each : onOwnContext) {
      assertThat(each.await(5, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * A dead name server holds the JDK's lookup for 10 s or more. Its callers fail at the deadline, and it stays the
   * host's one lookup (one blocked worker thread) until it returns: a caller after the deadline fails at once, without
   * a lookup of its own. Its late answer is kept.
   */
  @Test
  void failsCallersAtTheDeadlineWhileTheHungLookupStaysTheOnlyOne() throws Exception {
    AtomicInteger lookups = new AtomicInteger();
    CompletableFuture<Void> deadNameServer = new CompletableFuture<>();
    HostResolver resolver =
        new CachingHostResolver(vertx, Duration.ofMinutes(1), Duration.ofMillis(100), host -> {
          lookups.incrementAndGet();
          deadNameServer.join();
          return List.of(InetAddress.getByAddress(host, new byte[] {93, (byte) 184, (byte) 216, 34}));
        });
    try {
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

      deadNameServer.complete(null);
      await().atMost(Duration.ofSeconds(5))
          .ignoreExceptionsInstanceOf(HostResolver.LookupTimeoutException.class)
          .untilAsserted(() -> assertThat(resolver.resolve("hooks.example").await(5, TimeUnit.SECONDS)).hasSize(1));
      assertThat(lookups).hasValue(1);
    } finally {
      deadNameServer.complete(null);
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
