package dev.webhooks.dispatcher.delivery;

import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.resolver.NameResolver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resolves host names and keeps each answer for a short time, so concurrent and repeated deliveries to one host share
 * one lookup. Failed lookups are not kept here: the next delivery asks again (and Vert.x's resolver answers a name that
 * does not exist from its own cache for a while, {@link HostResolver#resolverOptions}).
 *
 * <p>A lookup that takes longer than its deadline fails its callers with {@link HostResolver.LookupTimeoutException},
 * but it stays the host's one lookup until it ends: callers meanwhile get the same failure at once rather than sending
 * queries of their own to a name server that does not answer. A late answer is kept as usual.
 *
 * <p>One cache serves every delivery lane, and a Vert.x future runs its callbacks on the context that made it, so an
 * answer is always handed over on the caller's own context: a lane given another lane's future would otherwise carry
 * on with its delivery, and mark its offsets, on the other lane's event loop.
 */
final class CachingHostResolver implements HostResolver {
  /** A bound on memory when endpoints churn; expired entries are swept when it is crossed. */
  private static final int MAX_ENTRIES = 10_000;

  /** A lookup of every address of a host name; fails with {@link UnknownHostException} for a name that has none. */
  @FunctionalInterface
  interface Lookup {
    Future<List<InetAddress>> lookup(String host);
  }

  /** What callers are given, and the lookup behind it: in flight, the entry is kept whatever its age. */
  private record Entry(Future<List<InetAddress>> answer, Future<List<InetAddress>> lookup, long expiresAtNanos) {
    boolean live(long now) {
      return now - expiresAtNanos < 0 || !lookup.isComplete();
    }
  }

  private final Vertx vertx;
  private final long ttlNanos;
  private final long deadlineMs;
  private final Lookup lookup;
  private final Map<String, Entry> cache = new ConcurrentHashMap<>();

  CachingHostResolver(Vertx vertx, Duration ttl, Duration deadline, Lookup lookup) {
    this.vertx = vertx;
    this.ttlNanos = ttl.toNanos();
    this.deadlineMs = deadline.toMillis();
    this.lookup = lookup;
  }

  @Override
  public Future<List<InetAddress>> resolve(String host) {
    String key = host.toLowerCase(Locale.ROOT);
    long now = System.nanoTime();
    Entry cached = cache.get(key);
    if (cached != null && cached.live(now)) {
      return onCallersContext(cached.answer());
    }
    ContextInternal caller = (ContextInternal) vertx.getOrCreateContext();
    Future<List<InetAddress>> lookedUp = lookup.lookup(host);
    PromiseInternal<List<InetAddress>> answer = caller.promise(); // made on the caller's context
    long deadline = caller.setTimer(deadlineMs, late -> answer.tryFail(new LookupTimeoutException(host, deadlineMs)));
    Entry fresh = new Entry(answer.future(), lookedUp, now + ttlNanos);
    cache.put(key, fresh);
    lookedUp.onComplete(done -> {
      vertx.cancelTimer(deadline);
      if (done.failed()) {
        cache.remove(key, fresh);
        answer.tryFail(done.cause());
      } else if (!answer.tryComplete(done.result())) { // after the deadline: keep the answer for the next delivery
        cache.replace(key, fresh, new Entry(lookedUp, lookedUp, System.nanoTime() + ttlNanos));
      }
    });
    if (cache.size() > MAX_ENTRIES) {
      cache.entrySet().removeIf(e -> !e.getValue().live(now));
    }
    return answer.future();
  }

  /**
   * Vert.x's own resolver, the one its clients connect with: Netty's DNS client, which sends its queries from an event
   * loop and waits for none of them on a thread. The answer completes on that event loop, whatever the caller's
   * context; {@link #resolve} hands it over. A resolver that refuses to start a lookup (Vert.x closing) fails it.
   */
  static Lookup dns(Vertx vertx) {
    NameResolver names = ((VertxInternal) vertx).nameResolver();
    return host -> {
      Promise<List<InetAddress>> found = Promise.promise();
      try {
        EventLoop loop = ((ContextInternal) vertx.getOrCreateContext()).nettyEventLoop();
        names.resolveAll(loop, host).addListener((io.netty.util.concurrent.Future<List<InetSocketAddress>> done) -> {
          if (done.isSuccess()) {
            found.complete(done.getNow().stream().map(InetSocketAddress::getAddress).toList());
          } else {
            found.fail(done.cause());
          }
        });
      } catch (RuntimeException refused) {
        found.fail(refused);
      }
      return found.future();
    };
  }

  /** The shared answer as a future of the caller's context (which also lets callers put a timeout on what follows). */
  private Future<List<InetAddress>> onCallersContext(Future<List<InetAddress>> shared) {
    ContextInternal caller = (ContextInternal) vertx.getOrCreateContext();
    if (shared.succeeded()) {
      return caller.succeededFuture(shared.result());
    }
    PromiseInternal<List<InetAddress>> handedOver = caller.promise();
    shared.onComplete(handedOver);
    return handedOver.future();
  }
}
