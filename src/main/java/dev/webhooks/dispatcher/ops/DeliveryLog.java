package dev.webhooks.dispatcher.ops;

import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.delivery.DeliveryListener;
import dev.webhooks.dispatcher.delivery.DeliveryOutcome;
import dev.webhooks.dispatcher.delivery.Endpoint;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One structured line per failed attempt and per dead letter, so an operator can answer "why did this account's webhook
 * fail" from the logs alone. Attempts refused by an open circuit are logged at DEBUG only: a dead endpoint would
 * otherwise log one line per event and retry, and the circuit logs its opening once. An attempt deferred for want of a
 * free connection is no failure: it is one INFO line of its own ({@code delivery attempt deferred}). Fields: {@code
 * account}, {@code client_id}, {@code webhook_key}, {@code endpoint_host}, {@code status}, {@code attempt}, {@code
 * webhook_id} (plus {@code reason}, and {@code deferral} on a deferral; {@code source} on a dead letter; {@code error},
 * the one human line of why, last on a failed attempt and a dead letter). A record rejected at intake has no app,
 * webhook or endpoint: its dead letter is a shorter line of {@code account} (when it named one), {@code reason},
 * {@code source} and {@code error}. They are carried as key-value pairs (fields of their own with {@code
 * LOG_FORMAT=json}) and repeated in the message text. Lines are built only when their level is enabled.
 *
 * <p>Never logged: the endpoint's path and query (they may carry tokens; taken out of an error that quotes them), the
 * body, any header value, a secret or a signature. Only the host of the endpoint leaves this class.
 */
public final class DeliveryLog implements DeliveryListener {
  /** A logger of its own, so operators can turn these lines up or down on their own (see {@code LOG_LEVELS}). */
  private static final Logger LOG = LoggerFactory.getLogger("dev.webhooks.dispatcher.ops.DeliveryLog");
  private static final Pattern LINE_BREAKS = Pattern.compile("[\\r\\n]+");

  @Override
  public void attempted(Delivery delivery, int attempt, DeliveryOutcome outcome, Duration took) {
    if (outcome instanceof DeliveryOutcome.Delivered) {
      return;
    }
    boolean notTried = DeliveryOutcome.CIRCUIT_OPEN.equals(reasonOf(outcome));
    if (notTried ? !LOG.isDebugEnabled() : !LOG.isWarnEnabled()) {
      return;
    }
    LoggingEventBuilder line = notTried ? LOG.atDebug() : LOG.atWarn();
    String endpoint = delivery.webhook().endpoint();
    String host = hostOf(endpoint);
    String error = errorText(errorOf(outcome), endpoint);
    fields(line, delivery.app().accountId(), delivery.app().clientId(), delivery.webhookKey(),
        host, outcome.status(), attempt, delivery.webhookId());
    line.addKeyValue("reason", reasonOf(outcome))
        .addKeyValue("error", error)
        .log("delivery attempt failed: account={} client_id={} webhook_key={} endpoint_host={} status={} attempt={}"
                + " webhook_id={} reason={} error={}",
            delivery.app().accountId(), delivery.app().clientId(), delivery.webhookKey(),
            host, statusText(outcome.status()), attempt, delivery.webhookId(),
            reasonOf(outcome), error);
  }

  @Override
  public void deferred(Delivery delivery, int attempt, int deferral, DeliveryOutcome heldBack) {
    if (!LOG.isInfoEnabled()) {
      return;
    }
    LoggingEventBuilder line = LOG.atInfo();
    String host = hostOf(delivery.webhook().endpoint());
    fields(line, delivery.app().accountId(), delivery.app().clientId(), delivery.webhookKey(),
        host, heldBack.status(), attempt, delivery.webhookId());
    line.addKeyValue("reason", reasonOf(heldBack))
        .addKeyValue("deferral", String.valueOf(deferral))
        .log("delivery attempt deferred: account={} client_id={} webhook_key={} endpoint_host={} attempt={}"
                + " deferral={} webhook_id={} reason={}",
            delivery.app().accountId(), delivery.app().clientId(), delivery.webhookKey(),
            host, attempt, deferral, delivery.webhookId(), reasonOf(heldBack));
  }

  @Override
  public void deadLettered(DeadLetter letter) {
    if (!LOG.isWarnEnabled()) {
      return;
    }
    if (letter.clientId().isEmpty()) {
      rejectedAtIntake(letter);
      return;
    }
    String error = errorText(letter.error(), letter.endpoint());
    String host = hostOf(letter.endpoint());
    LoggingEventBuilder line = LOG.atWarn();
    fields(line, letter.accountId(), letter.clientId(), letter.webhookKey(), host, letter.lastStatus(),
        letter.attempts(), letter.webhookId());
    line.addKeyValue("reason", letter.reason())
        .addKeyValue("source", letter.source().toString())
        .addKeyValue("error", error)
        .log("dead letter written: account={} client_id={} webhook_key={} endpoint_host={} status={} attempt={}"
                + " webhook_id={} reason={} source={} error={}",
            letter.accountId(), letter.clientId(), letter.webhookKey(), host,
            statusText(letter.lastStatus()), letter.attempts(), letter.webhookId(), letter.reason(), letter.source(),
            error);
  }

  /** A record that could not be routed (no app, webhook or endpoint to name): only what it has. */
  private static void rejectedAtIntake(DeadLetter letter) {
    String error = errorText(letter.error(), "");
    LoggingEventBuilder line = LOG.atWarn();
    if (letter.accountId().isEmpty()) {
      line.addKeyValue("reason", letter.reason())
          .addKeyValue("source", letter.source().toString())
          .addKeyValue("error", error)
          .log("dead letter written: reason={} source={} error={}", letter.reason(), letter.source(), error);
    } else {
      line.addKeyValue("account", letter.accountId())
          .addKeyValue("reason", letter.reason())
          .addKeyValue("source", letter.source().toString())
          .addKeyValue("error", error)
          .log("dead letter written: account={} reason={} source={} error={}", letter.accountId(), letter.reason(),
              letter.source(), error);
    }
  }

  private static void fields(LoggingEventBuilder line, String account, String clientId, String webhookKey,
      String host, OptionalInt status, int attempt, String webhookId) {
    line.addKeyValue("account", account)
        .addKeyValue("client_id", clientId)
        .addKeyValue("webhook_key", webhookKey)
        .addKeyValue("endpoint_host", host)
        .addKeyValue("status", statusText(status))
        .addKeyValue("attempt", String.valueOf(attempt))
        .addKeyValue("webhook_id", webhookId);
  }

  private static String reasonOf(DeliveryOutcome outcome) {
    if (outcome instanceof DeliveryOutcome.RetryableFailure failed) {
      return failed.reason();
    }
    if (outcome instanceof DeliveryOutcome.PermanentFailure refused) {
      return refused.reason();
    }
    return "";
  }

  private static String errorOf(DeliveryOutcome outcome) {
    if (outcome instanceof DeliveryOutcome.RetryableFailure failed) {
      return failed.error();
    }
    if (outcome instanceof DeliveryOutcome.PermanentFailure refused) {
      return refused.error();
    }
    return "";
  }

  /**
   * {@code error} on one line, without the endpoint's URL or its path and query should it quote them (an endpoint that
   * does not parse is quoted whole by its error): they may carry the receiver's tokens.
   */
  static String errorText(String error, String endpoint) {
    boolean oneLine = error.indexOf('\n') < 0 && error.indexOf('\r') < 0;
    String line = oneLine ? error : LINE_BREAKS.matcher(error).replaceAll(" ");
    if (endpoint == null || endpoint.isEmpty()) {
      return line;
    }
    line = line.replace(endpoint, "(endpoint)");
    try {
      String pathAndQuery = Endpoint.parse(endpoint).pathAndQuery();
      return pathAndQuery.length() > 1 ? line.replace(pathAndQuery, "(path)") : line;
    } catch (IllegalArgumentException e) {
      return line;
    }
  }

  /** The status code, or empty when there was no answer (timeout, reset, refused connection). */
  private static String statusText(OptionalInt status) {
    return status.isPresent() ? String.valueOf(status.getAsInt()) : "";
  }

  /** Only the host: the path and query of an endpoint may carry credentials of the receiver. */
  static String hostOf(String endpoint) {
    if (endpoint == null || endpoint.isEmpty()) {
      return "";
    }
    try {
      return Endpoint.parse(endpoint).host();
    } catch (IllegalArgumentException e) {
      return "(invalid endpoint)";
    }
  }
}
