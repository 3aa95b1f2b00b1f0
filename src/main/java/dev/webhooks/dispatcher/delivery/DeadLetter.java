package dev.webhooks.dispatcher.delivery;

import io.vertx.core.buffer.Buffer;
import java.util.OptionalInt;

/**
 * A record or delivery that will not be delivered, with the documented dead-letter headers. Empty strings stand for
 * what does not apply (an intake failure has no client id, webhook key or endpoint).
 *
 * @param reason a short machine word: {@code exhausted}, {@code blocked-address}, {@code invalid-json}, ...
 * @param error one human line
 * @param value the body that was (or would have been) POSTed, or the raw record value for intake failures
 */
public record DeadLetter(
    String accountId,
    String clientId,
    String webhookKey,
    String webhookId,
    String endpoint,
    int attempts,
    OptionalInt lastStatus,
    String reason,
    String error,
    Source source,
    Buffer value) {

  /** This letter without its value, for a topic that cannot take it; the error says what was left out and why. */
  public DeadLetter withoutValue(String why) {
    return new DeadLetter(accountId, clientId, webhookKey, webhookId, endpoint, attempts, lastStatus, reason,
        error + "; its value of " + value.length() + " bytes is left out: " + why, source, Buffer.buffer());
  }
}
