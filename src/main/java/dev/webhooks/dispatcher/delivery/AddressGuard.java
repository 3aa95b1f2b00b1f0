package dev.webhooks.dispatcher.delivery;

import dev.webhooks.dispatcher.install.EndpointCheck;
import io.vertx.core.Future;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The SSRF guard: endpoints may only reach public unicast addresses. Loopback, private, link-local (cloud metadata),
 * CGNAT, multicast, unspecified, broadcast, documentation and other reserved ranges are blocked, in IPv4 and IPv6,
 * including IPv4 addresses carried inside IPv6 (mapped, compatible, NAT64, 6to4). {@code allowPrivateNetworks} lifts
 * the guard for local development and tests.
 */
public final class AddressGuard implements EndpointCheck {
  /**
   * What a refusal of a local trial's endpoint (a receiver on this machine or the LAN) adds. The switch lifts every
   * range, but only these name it: a metadata, multicast or documentation address is no trial, and suggesting to open
   * the guard to it would be bad advice.
   */
  static final String LOCAL_TRIAL_REMEDY =
      "; set DELIVERY_ALLOW_PRIVATE_NETWORKS=true to allow private and loopback endpoints (local trials only)";

  private static final Set<String> LOCAL_TRIAL_RANGES = Set.of("loopback", "private", "unique local (private)");

  private final boolean allowPrivateNetworks;
  private final HostResolver resolver;

  public AddressGuard(boolean allowPrivateNetworks, HostResolver resolver) {
    this.allowPrivateNetworks = allowPrivateNetworks;
    this.resolver = resolver;
  }

  /** Whether a connection to {@code address} is allowed. */
  public boolean permits(InetAddress address) {
    return allowPrivateNetworks || blockedRange(address).isEmpty();
  }

  /**
   * Why a host's addresses may not be used (one blocked address is enough, against DNS tricks), or empty. The same text
   * refuses an install and a delivery, so a loopback or private address names the switch that allows it.
   */
  public Optional<String> refusal(String host, List<InetAddress> addresses) {
    for (InetAddress address : addresses) {
      if (!permits(address)) {
        String range = blockedRange(address).orElseThrow();
        return Optional.of("host " + host + " resolves to " + address.getHostAddress() + ", a " + range + " address"
            + (LOCAL_TRIAL_RANGES.contains(range) ? LOCAL_TRIAL_REMEDY : ""));
      }
    }
    return Optional.empty();
  }

  /**
   * Install-time check: the endpoint must be an absolute https URL with a host, and none of the host's addresses may be
   * blocked. A host that does not resolve is accepted; it is checked again at every delivery.
   */
  @Override
  public Future<Optional<String>> refusal(String endpoint) {
    Endpoint parsed;
    try {
      parsed = Endpoint.parse(endpoint);
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(Optional.of(e.getMessage()));
    }
    return resolver
        .resolve(parsed.host())
        .map(addresses -> refusal(parsed.host(), addresses))
        .otherwise(unresolvable -> Optional.empty());
  }

  /** The kind of non-public range an address falls in, or empty for a public unicast address. */
  public static Optional<String> blockedRange(InetAddress address) {
    byte[] b = address.getAddress();
    return Optional.ofNullable(b.length == 4 ? ipv4(b, 0) : ipv6(b));
  }

  private static String ipv4(byte[] b, int at) {
    int a0 = b[at] & 0xff;
    int a1 = b[at + 1] & 0xff;
    int a2 = b[at + 2] & 0xff;
    if (a0 == 0) return "unspecified (0.0.0.0/8)";
    if (a0 == 10) return "private";
    if (a0 == 100 && (a1 & 0xc0) == 64) return "carrier-grade NAT";
    if (a0 == 127) return "loopback";
    if (a0 == 169 && a1 == 254) return "link-local (cloud metadata)";
    if (a0 == 172 && (a1 & 0xf0) == 16) return "private";
    if (a0 == 192 && a1 == 168) return "private";
    if (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2)) return "reserved (IETF or documentation)";
    if (a0 == 192 && a1 == 88 && a2 == 99) return "reserved (6to4 relay)";
    if (a0 == 198 && (a1 & 0xfe) == 18) return "reserved (benchmarking)";
    if (a0 == 198 && a1 == 51 && a2 == 100) return "reserved (documentation)";
    if (a0 == 203 && a1 == 0 && a2 == 113) return "reserved (documentation)";
    if ((a0 & 0xf0) == 224) return "multicast";
    if ((a0 & 0xf0) == 240) return "reserved or broadcast";
    return null;
  }

  private static String ipv6(byte[] b) {
    if (zeros(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
      return ipv4(b, 12); // ::ffff:a.b.c.d, IPv4-mapped
    }
    if (zeros(b, 0, 12)) {
      if (zeros(b, 12, 15) && b[15] == 0) return "unspecified";
      if (zeros(b, 12, 15) && b[15] == 1) return "loopback";
      return ipv4(b, 12); // ::a.b.c.d, IPv4-compatible (deprecated, still routed by some stacks)
    }
    int w0 = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
    int w1 = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    if (w0 == 0x64 && w1 == 0xff9b && zeros(b, 4, 12)) return ipv4(b, 12); // NAT64 well-known prefix
    if (w0 == 0x64 && w1 == 0xff9b) return "reserved (local NAT64)";
    if (w0 == 0x100 && w1 == 0 && zeros(b, 4, 8)) return "reserved (discard)";
    if (w0 == 0x2001 && w1 == 0x0db8) return "reserved (documentation)";
    if (w0 == 0x3fff && (w1 & 0xf000) == 0) return "reserved (documentation)"; // 3fff::/20, RFC 9637
    int w2 = ((b[4] & 0xff) << 8) | (b[5] & 0xff);
    if (w0 == 0x2001 && w1 == 0x0002 && w2 == 0) return "reserved (benchmarking)"; // 2001:2::/48, RFC 5180
    if (w0 == 0x2001 && w1 == 0) return "reserved (Teredo tunnel)";
    if (w0 == 0x2002) return ipv4(b, 2); // 6to4 carries an IPv4 address
    if ((w0 & 0xfe00) == 0xfc00) return "unique local (private)";
    if ((w0 & 0xffc0) == 0xfe80) return "link-local";
    if ((w0 & 0xffc0) == 0xfec0) return "site-local";
    if ((w0 & 0xff00) == 0xff00) return "multicast";
    if ((w0 & 0xe000) != 0x2000) return "reserved (not global unicast)";
    return null;
  }

  private static boolean zeros(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
