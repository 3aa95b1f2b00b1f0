package dev.webhooks.dispatcher.delivery;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A webhook endpoint taken apart for a request: an absolute {@code https} URL with a host.
 *
 * @param host the host as written, without IPv6 brackets; it names the server for Host, SNI and certificate checks
 * @param port the port, 443 when absent
 * @param pathAndQuery the raw path (at least {@code /}) and query, sent verbatim
 */
public record Endpoint(String host, int port, String pathAndQuery) {
  private static final int HTTPS_PORT = 443;

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
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1); // an IPv6 literal
    }
    return new Endpoint(host, port, path + query);
  }
}
