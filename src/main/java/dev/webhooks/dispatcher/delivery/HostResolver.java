package dev.webhooks.dispatcher.delivery;

import io.netty.util.NetUtil;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.dns.AddressResolverOptions;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * Turns an endpoint's host into the addresses to check and connect to. A seam so tests can answer (DNS rebinding,
 * hosts that resolve to private addresses); the future fails with {@link UnknownHostException} for a host that does
 * not resolve, and with {@link LookupTimeoutException} for a lookup that took too long.
 */
public interface HostResolver {
  /** Long enough that the delivery path rarely leaves the event loop, short enough to follow DNS changes. */
  Duration DEFAULT_TTL = Duration.ofSeconds(10);

  /**
   * How long a delivery waits for a lookup. A working DNS answers in milliseconds; a dead name server answers nothing,
   * and the lookup goes on until its query times out ({@link #resolverOptions}). At 5 s the delivery fails, retryable,
   * and is retried with backoff. A constant, not {@code DELIVERY_CONNECT_TIMEOUT_MS}: that bounds a receiver's TCP
   * connect, this our own DNS.
   */
  Duration LOOKUP_DEADLINE = Duration.ofSeconds(5);

  /** Every address of {@code host} (a name, or an IP literal, with or without IPv6 brackets); never empty. */
  Future<List<InetAddress>> resolve(String host);

  /**
   * Vert.x's non-blocking resolver (Netty's DNS client: {@code /etc/hosts}, then the name servers and search domains
   * of {@code /etc/resolv.conf}, or the Vert.x instance's {@link #resolverOptions}), cached for {@link #DEFAULT_TTL} and
   * waited for at most {@link #LOOKUP_DEADLINE}; IP literals are parsed. A lookup holds no thread while it waits, so a
   * dead name server costs open queries, not worker threads.
   */
  static HostResolver system(Vertx vertx) {
    return literalsFirst(new CachingHostResolver(vertx, DEFAULT_TTL, LOOKUP_DEADLINE, CachingHostResolver.dns(vertx)));
  }

  /**
   * The resolver settings of the service's Vert.x instance, which {@link #system} looks up with. A query waits a second
   * longer than {@link #LOOKUP_DEADLINE}, so a hung lookup outlives its callers' deadline and stays its host's one
   * lookup meanwhile (later callers fail at once, rather than race a query of their own against the deadline), while a
   * dead first name server delays the next one little more than the JDK's 5 s would. A name that does not exist is
   * remembered for 10 s, as the JDK does, so deliveries to it do not each query again.
   */
  static AddressResolverOptions resolverOptions() {
    return new AddressResolverOptions()
        .setQueryTimeout(LOOKUP_DEADLINE.plusSeconds(1).toMillis())
        .setCacheNegativeTimeToLive(10);
  }

  /** Answers IP literals itself, without a lookup, and asks {@code names} for everything else. */
  static HostResolver literalsFirst(HostResolver names) {
    return host -> {
      Optional<InetAddress> literal = literal(host);
      return literal.isPresent() ? Future.succeededFuture(List.of(literal.get())) : names.resolve(host);
    };
  }

  /** The address an IPv4 or IPv6 literal (brackets allowed) stands for, or empty for a host name. */
  static Optional<InetAddress> literal(String host) {
    String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(bare);
    if (bytes == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(InetAddress.getByAddress(bytes));
    } catch (UnknownHostException e) {
      throw new IllegalStateException("the IP parser returned " + bytes.length + " bytes", e);
    }
  }

  /** A lookup of {@code host} that did not answer within {@code deadlineMs}; stackless, as it is an expected failure. */
  final class LookupTimeoutException extends TimeoutException {
    public LookupTimeoutException(String host, long deadlineMs) {
      super("DNS lookup for " + host + " took longer than " + deadlineMs + " ms");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
