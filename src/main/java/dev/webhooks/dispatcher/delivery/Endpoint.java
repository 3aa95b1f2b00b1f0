package dev.webhooks.dispatcher.delivery;

import io.vertx.core.net.HostAndPort;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A webhook endpoint taken apart for a request: an absolute {@code https} URL with a host.
 *
 * @param host the host as written, without IPv6 brackets: what is resolved, checked, and named for SNI and certificate
 *     checks (the Host header is {@link #authority()})
 * @param port the port, 443 when absent
 * @param pathAndQuery the raw path (at least {@code /}) and query, sent verbatim
 */
public record Endpoint(String host, int port, String pathAndQuery) {
  private static final int HTTPS_PORT = 443;
  /** java.net.URI takes any number of digits as a port; TCP ports are 16 bits, and 0 cannot be connected to. */
  public static final int PORT_MAX = 65_535;

  /** The request's Host header: an IPv6 literal goes back in its brackets (RFC 7230 5.4, RFC 3986 3.2.2). */
  public HostAndPort authority() {
    return HostAndPort.create(isIpv6Literal() ? "[" + host + "]" : host, port);
  }

  /** Whether the host is an IPv6 address: the one case where the Host header is not the host as it stands. */
  public boolean isIpv6Literal() {
    return host.indexOf(':') >= 0;
  }

  /** Whether {@code port} can be connected to: 1 to {@link #PORT_MAX}. */
  public static boolean isTcpPort(int port) {
    return port >= 1 && port <= PORT_MAX;
  }

  /** Parses an endpoint; throws {@link IllegalArgumentException} with a message a person understands. */
  public static Endpoint parse(String endpoint) {
    URI uri;
    try {
      uri = new URI(endpoint);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("endpoint is not a valid URL: " + e.getMessage());
    }
    if (!uri.isAbsolute() || !"https".equals(uri.getScheme().toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException("endpoint must be an absolute https:// URL");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException("endpoint must name a host");
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException("endpoint must not carry user credentials");
    }
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
    int port = uri.getPort() == -1 ? HTTPS_PORT : uri.getPort();
    if (!isTcpPort(port)) {
      throw new IllegalArgumentException("endpoint port " + port + " is not a TCP port (1 to " + PORT_MAX + ")");
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1); // an IPv6 literal
    } else if (isNumericHost(host) && !isDottedQuad(host)) {
      throw new IllegalArgumentException(
          "endpoint host " + host + " is an IPv4 address in a short, octal, hex or integer form;"
              + " write it as four decimal parts (a.b.c.d)");
    }
    return new Endpoint(host, port, path + query);
  }

  /**
   * A host whose last label is a number is an IPv4 address to browsers, curl and the C resolver (WHATWG URL: "ends in
   * a number"), which read {@code 0177.0.0.1}, {@code 0x7f000001} and {@code 2130706433} as 127.0.0.1 while Java reads
   * some of them otherwise or not at all. Only the one unambiguous form is accepted, so the guard checks the address
   * every other tool would reach.
   */
  private static boolean isNumericHost(String host) {
    String bare = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    String last = bare.substring(bare.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    return !last.isEmpty() && (last.chars().allMatch(c -> c >= '0' && c <= '9') || last.startsWith("0x"));
  }

  private static boolean isDottedQuad(String host) {
    String[] parts = host.split("\\.", -1);
    if (parts.length != 4) {
      return false;
    }
    for (String part : parts) {
      boolean decimal = !part.isEmpty() && part.length() <= 3 && part.chars().allMatch(c -> c >= '0' && c <= '9');
      if (!decimal || (part.length() > 1 && part.startsWith("0")) || Integer.parseInt(part) > 255) {
        return false;
      }
    }
    return true;
  }
}
