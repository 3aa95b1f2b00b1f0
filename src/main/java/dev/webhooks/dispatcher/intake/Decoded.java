package dev.webhooks.dispatcher.intake;

import dev.webhooks.dispatcher.delivery.Retry;

/**
 * What the decoder made of a record: an event to route, a retry from the retry topic to attempt when due, or a
 * rejection that becomes a dead letter.
 */
public sealed interface Decoded {

  record Accepted(Event event) implements Decoded {}

  record Retrying(Retry retry) implements Decoded {}

  /**
   * A record that cannot be routed.
   *
   * @param reason the dead letter's machine word ({@code invalid-json}, {@code missing-account}, ...)
   * @param error one human line
   * @param accountId the account, when the record named one, else empty
   */
  record Rejected(String reason, String error, String accountId) implements Decoded {}
}
