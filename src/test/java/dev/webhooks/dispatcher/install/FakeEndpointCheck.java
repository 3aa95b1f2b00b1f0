package dev.webhooks.dispatcher.install;

import io.vertx.core.Future;
import java.net.URI;
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
    String host = URI.create(endpoint).getHost();
    return Future.succeededFuture(refusedHosts.contains(host) ? Optional.of(REFUSAL) : Optional.empty());
  }
}
