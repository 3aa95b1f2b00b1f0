package dev.webhooks.dispatcher.delivery;

import io.netty.util.NetUtil;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Turns an endpoint's host into the addresses to check and connect to. A seam so tests can answer (DNS rebinding,
 * hosts that resolve to private addresses); the future fails with {@link UnknownHostException} for a host that does
 * not resolve.
 */
public interface HostResolver {
  /** Long enough that the delivery path rarely leaves the event loop, short enough to follow DNS changes. */
  Duration DEFAULT_TTL = Duration.ofSeconds(10);

  /** Every address of {@code host} (a name, or an IP literal, with or without IPv6 brackets); never empty. */
  Future<List<InetAddress>> resolve(String host);

  /** The JVM's resolver, called on a worker thread and cached for {@link #DEFAULT_TTL}; IP literals are parsed. */
  static HostResolver system(Vertx vertx) {
    return literalsFirst(new CachingHostResolver(vertx, DEFAULT_TTL, host -> List.of(InetAddress.getAllByName(host))));
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
}
