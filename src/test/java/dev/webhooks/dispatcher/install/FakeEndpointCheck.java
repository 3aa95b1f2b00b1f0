package dev.webhooks.dispatcher.install;

import dev.webhooks.dispatcher.delivery.Endpoint;
import io.vertx.core.Future;
import java.util.Optional;
import java.util.Set;

/** Refuses endpoints on the hosts it is given, as the SSRF guard refuses private addresses; accepts every other. */
final class FakeEndpointCheck implements EndpointCheck {
  static final String REFUSAL = "resolves to a private address";
  private final Set<String> refusedHosts;

  FakeEndpointCheck(String... refusedHosts) {
    this.refusedHosts = Set.of(refusedHosts);
  }

  @Override
  public Future<Optional<String>> refusal(String endpoint) {
    Endpoint parsed;
    try {
      parsed = Endpoint.parse(endpoint); // as the guard parses it: java.net.URI finds no host in some valid URLs
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(Optional.of(e.getMessage()));
    }
    return Future.succeededFuture(refusedHosts.contains(parsed.host()) ? Optional.of(REFUSAL) : Optional.empty());
  }
}
