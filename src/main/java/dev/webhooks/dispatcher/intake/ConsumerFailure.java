package dev.webhooks.dispatcher.intake;

import java.time.Duration;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicAuthorizationException;

/**
 * What a failed poll or commit of the events consumer means, decided here alone. A transient failure cures itself (a
 * coordinator moving, a rebalance, a broker briefly away): it is retried after a second, and the service stays ready.
 * A blocking one needs someone to act (an ACL, credentials, a fault retrying alone does not cure): the service is not
 * ready while it lasts, it is logged once, as an ERROR saying what to fix, and it is retried with a growing pause, so
 * a fixed ACL is noticed without a restart.
 */
public sealed interface ConsumerFailure {
  /** The pause after a transient failure: as long as before this class existed. */
  Duration TRANSIENT_PAUSE = Duration.ofSeconds(1);
  /** The longest pause between tries of a blocking failure: a fixed ACL is noticed within this long. */
  Duration MAX_BLOCKED_PAUSE = Duration.ofSeconds(30);

  /** The cause in one line, with the remedy for a blocking failure. */
  String cause();

  /** The pause before trying again after {@code failuresInARow} failures (1 for the first). */
  Duration pause(int failuresInARow);

  record Transient(String cause) implements ConsumerFailure {
    @Override
    public Duration pause(int failuresInARow) {
      return TRANSIENT_PAUSE;
    }
  }

  record Blocking(String cause) implements ConsumerFailure {
    /** 1 s, doubling, up to {@link #MAX_BLOCKED_PAUSE}: a few quick tries for a fix made at once, then a slow pace. */
    @Override
    public Duration pause(int failuresInARow) {
      int doublings = Math.min(Math.max(0, failuresInARow - 1), 5);
      Duration pause = TRANSIENT_PAUSE.multipliedBy(1L << doublings);
      return pause.compareTo(MAX_BLOCKED_PAUSE) > 0 ? MAX_BLOCKED_PAUSE : pause;
    }
  }

  /** Classifies a failure of the consumer of {@code group}, the group named by {@code CONSUMER_GROUP}. */
  static ConsumerFailure of(KafkaException e, String group) {
    if (e instanceof GroupAuthorizationException denied) { // the principal may not join the group nor commit for it
      String named = denied.groupId() == null ? group : denied.groupId();
      return new Blocking("consumer group " + named + " is not authorized: grant READ on group " + named
          + " (CONSUMER_GROUP) to the service's principal");
    }
    if (e instanceof TopicAuthorizationException denied) { // the principal may not read a subscribed topic
      return new Blocking("topics " + denied.unauthorizedTopics() + " are not authorized: grant READ and DESCRIBE on"
          + " them (EVENTS_TOPICS and the RETRY_TOPIC-1..5 tiers) to the service's principal");
    }
    if (e instanceof AuthorizationException) { // any other refused ACL
      return new Blocking("Kafka refused an operation of the events consumer: " + e.getMessage()
          + "; grant the service's principal the ACL it names");
    }
    if (e instanceof AuthenticationException) { // credentials refused: SASL or a TLS client certificate
      return new Blocking("Kafka refused the service's credentials: " + e.getMessage()
          + "; check the KAFKA_CLIENT_SASL_* and KAFKA_CLIENT_SSL_* settings");
    }
    if (e instanceof RetriableException) { // Kafka's own word that trying again can succeed
      return new Transient(e.toString());
    }
    if (e instanceof CommitFailedException || e instanceof RebalanceInProgressException) { // the group moved on
      return new Transient(e.toString());
    }
    // anything else (an unsupported version, a corrupt record, an unknown error) does not cure itself: say so
    return new Blocking("the events consumer failed: " + e + "; Kafka does not expect this to pass by itself");
  }
}
