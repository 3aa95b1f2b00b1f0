package dev.webhooks.dispatcher.install;

import io.vertx.core.Future;
import java.util.Optional;

/** Decides at install time whether an endpoint may be used (the SSRF guard lives behind this seam). */
public interface EndpointCheck {

  /** Empty when the endpoint is acceptable, else a message a person understands ("resolves to a loopback address"). */
  Future<Optional<String>> refusal(String endpoint);
}
