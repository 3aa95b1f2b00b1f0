package dev.webhooks.dispatcher.delivery;

import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.security.cert.CertPathBuilderException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.OptionalInt;
import javax.net.ssl.SSLException;

/** The one place that decides what an HTTP answer or an I/O failure means for a delivery, with a short reason word. */
final class Outcomes {
  static final String TIMEOUT = "timeout";
  static final String HTTP_STATUS = "http-status";
  static final String BLOCKED_ADDRESS = "blocked-address";
  static final String INVALID_ENDPOINT = "invalid-endpoint";
  /** A Retry-After further away than this is nonsense; the retry policy caps it at the max delay anyway. */
  private static final long MAX_RETRY_AFTER_SECONDS = 24 * 3600;

  private Outcomes() {}

  /** 200 and 201 deliver; every other status (redirects included, never followed) is worth a retry. */
  static DeliveryOutcome ofStatus(int status, String retryAfterHeader, String host, Instant now) {
    if (status == 200 || status == 201) {
      return new DeliveryOutcome.Delivered(status);
    }
    boolean mayAskToWait = (status == 429 || status == 503) && retryAfterHeader != null;
    Optional<Duration> retryAfter = mayAskToWait ? retryAfter(retryAfterHeader, now) : Optional.empty();
    return new DeliveryOutcome.RetryableFailure(
        OptionalInt.of(status), HTTP_STATUS, host + " answered HTTP " + status, retryAfter);
  }

  /** The response did not complete within the response timeout. */
  static DeliveryOutcome timedOut(String host, Duration timeout) {
    return retryable(TIMEOUT, host + " did not answer within " + timeout.toMillis() + " ms");
  }

  /**
   * No connection to {@code host} came free within {@code maxWait}: the attempt was never sent. A reason of its own,
   * not {@code connect-timeout}: that one is a connection that did not open, and counts as a failed attempt.
   */
  static DeliveryOutcome noFreeConnection(String host, Duration maxWait, int inFlight, int waiting) {
    return retryable(DeliveryOutcome.NO_FREE_CONNECTION, "no free connection to " + host + " within "
        + maxWait.toMillis() + " ms (" + inFlight + " attempts in flight, " + waiting + " waiting)");
  }

  /**
   * No connection to {@code host} came free within {@code maxWait} while its last {@code failures} attempts went
   * unanswered: perhaps not busy but failing, so this counts as a failed attempt, as a connection that did not open.
   */
  static DeliveryOutcome noFreeConnectionWhileFailing(String host, Duration maxWait, int failures, String lastError) {
    return retryable("connect-timeout", "no free connection to " + host + " within " + maxWait.toMillis()
        + " ms, and its last " + failures + " attempts failed without an answer (last: " + lastError + ")");
  }

  /** Not tried: {@code host}'s last {@code failures} attempts ended without an answer, so its circuit is open. */
  static DeliveryOutcome circuitOpen(String host, int failures, String lastError, Duration retryIn) {
    long seconds = Math.max(1, (retryIn.toMillis() + 999) / 1000);
    return retryable(DeliveryOutcome.CIRCUIT_OPEN, host + " not tried: its last " + failures
        + " attempts failed without an answer (last: " + lastError + "); next try in about " + seconds + " s");
  }

  /** Not tried: {@code host}'s circuit is half-open, and its probe has not answered within {@code maxWait}. */
  static DeliveryOutcome probeUnanswered(String host, int failures, String lastError, Duration maxWait) {
    return retryable(DeliveryOutcome.CIRCUIT_OPEN, host + " not tried: its last " + failures
        + " attempts failed without an answer (last: " + lastError + "), and the probe sent since has not answered"
        + " within " + maxWait.toMillis() + " ms");
  }

  /** The one human line a failed attempt leaves in its retry or dead letter. */
  static String errorOf(DeliveryOutcome outcome) {
    if (outcome instanceof DeliveryOutcome.RetryableFailure failed) {
      return failed.error();
    }
    return outcome instanceof DeliveryOutcome.PermanentFailure refused ? refused.error() : outcome.toString();
  }

  /** Classifies a failure to connect, hand-shake, send or receive. */
  static DeliveryOutcome ofFailure(Throwable failure, String host) {
    String detail = host + ": " + oneLine(failure);
    // a TLS failure often arrives wrapped (Netty's DecoderException), so look through the causes first
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SslHandshakeTimeoutException) { // a stalled handshake; its own message says so, not the wrapper's
        return retryable("connect-timeout", host + ": " + oneLine(t));
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SSLException) {
        return retryable("tls", "TLS with " + host + " failed: " + oneLine(t) + (unknownIssuer(failure)
            ? "; its certificate is not signed by a CA this dispatcher trusts: if it should be, add that CA to"
                + " DELIVERY_TRUSTED_CA_PEM"
            : ""));
      }
    }
    if (failure instanceof io.netty.channel.ConnectTimeoutException) return retryable("connect-timeout", detail);
    if (failure instanceof ConnectException || failure instanceof NoRouteToHostException) {
      return retryable("connect-failed", detail);
    }
    if (failure instanceof UnknownHostException) return retryable("dns", host + " does not resolve");
    if (failure instanceof HostResolver.LookupTimeoutException) return retryable("dns", oneLine(failure)); // slow DNS
    if (failure instanceof HttpClosedException || failure instanceof StreamResetException) {
      return retryable("reset", detail);
    }
    if (failure instanceof IOException) return retryable("reset", detail); // connection reset by peer, broken pipe
    return retryable("io-error", detail);
  }

  /**
   * Whether no chain could be built from the endpoint's certificate to a trusted CA (self-signed, or a private CA): the
   * one TLS failure that the operator, not the receiver, may have to fix. An expired certificate or one for another
   * host fails the validation of a chain that was built, not its building.
   */
  private static boolean unknownIssuer(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof CertPathBuilderException) {
        return true;
      }
    }
    return false;
  }

  /** Retry-After as delta seconds or an HTTP-date; a date in the past means now. */
  static Optional<Duration> retryAfter(String value, Instant now) {
    String v = value.trim();
    if (!v.isEmpty() && v.chars().allMatch(Character::isDigit)) {
      long seconds = v.length() > 6 ? MAX_RETRY_AFTER_SECONDS : Long.parseLong(v); // no overflow from long digit runs
      return Optional.of(Duration.ofSeconds(Math.min(seconds, MAX_RETRY_AFTER_SECONDS)));
    }
    try {
      Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      Duration wait = Duration.between(now, at);
      return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  static String oneLine(Throwable t) {
    String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return message.replaceAll("[\\r\\n]+", " ");
  }

  private static DeliveryOutcome retryable(String reason, String error) {
    return new DeliveryOutcome.RetryableFailure(OptionalInt.empty(), reason, error, Optional.empty());
  }
}
