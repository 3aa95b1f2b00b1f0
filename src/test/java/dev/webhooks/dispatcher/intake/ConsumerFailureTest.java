package dev.webhooks.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.junit.jupiter.api.Test;

/** Which failures of the events consumer need someone to act, and what the log tells them to do. */
class ConsumerFailureTest {
  private static final String GROUP = "webhook-dispatcher";

  @Test
  void anUnauthorizedGroupBlocksAndSaysWhatToGrant() {
    assertThat(ConsumerFailure.of(GroupAuthorizationException.forGroupId(GROUP), "other"))
        .isInstanceOf(ConsumerFailure.Blocking.class)
        .extracting(ConsumerFailure::cause).asString()
        .contains("consumer group webhook-dispatcher is not authorized: grant READ on group webhook-dispatcher");
  }

  @Test
  void unauthorizedTopicsBlockAndAreNamed() {
    assertThat(ConsumerFailure.of(new TopicAuthorizationException(Set.of("messaging-events")), GROUP))
        .isInstanceOf(ConsumerFailure.Blocking.class)
        .extracting(ConsumerFailure::cause).asString()
        .contains("[messaging-events]", "grant READ and DESCRIBE");
  }

  @Test
  void refusedCredentialsAndFaultsKafkaDoesNotExpectToPassBlock() {
    assertThat(ConsumerFailure.of(new SaslAuthenticationException("bad password"), GROUP))
        .isInstanceOf(ConsumerFailure.Blocking.class)
        .extracting(ConsumerFailure::cause).asString().contains("KAFKA_CLIENT_SASL_*");
    assertThat(ConsumerFailure.of(new UnsupportedVersionException("too old"), GROUP))
        .isInstanceOf(ConsumerFailure.Blocking.class);
    assertThat(ConsumerFailure.of(new KafkaException("unexpected"), GROUP)).isInstanceOf(ConsumerFailure.Blocking.class);
  }

  @Test
  void failuresThatPassByThemselvesAreTransient() {
    assertThat(ConsumerFailure.of(new TimeoutException("slow"), GROUP)).isInstanceOf(ConsumerFailure.Transient.class);
    assertThat(ConsumerFailure.of(new DisconnectException("gone"), GROUP)).isInstanceOf(ConsumerFailure.Transient.class);
    assertThat(ConsumerFailure.of(new NotCoordinatorException("moved"), GROUP))
        .isInstanceOf(ConsumerFailure.Transient.class);
    assertThat(ConsumerFailure.of(new CommitFailedException(), GROUP)).isInstanceOf(ConsumerFailure.Transient.class);
  }

  @Test
  void aBlockingFailureIsTriedAgainAfterAPauseThatDoublesUpToThirtySeconds() {
    ConsumerFailure blocking = new ConsumerFailure.Blocking("x");
    assertThat(java.util.stream.IntStream.rangeClosed(1, 8).mapToObj(blocking::pause).map(Duration::toSeconds))
        .containsExactly(1L, 2L, 4L, 8L, 16L, 30L, 30L, 30L);
    assertThat(blocking.pause(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(30));
    assertThat(new ConsumerFailure.Transient("x").pause(9)).isEqualTo(Duration.ofSeconds(1));
  }
}
