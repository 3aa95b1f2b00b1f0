package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.junit.jupiter.api.Test;

class WriteTransactionTest {

  @Test
  void aTransactionAbortedForAnotherIsFencedHoweverTheProducerWrapsIt() {
    assertThat(WriteTransaction.fenced(new ProducerFencedException("newer producer"))).isTrue();
    assertThat(WriteTransaction.fenced(new InvalidProducerEpochException("epoch bumped"))).isTrue();
    assertThat(WriteTransaction.fenced(new KafkaException("in an error state",
        new ProducerFencedException("newer producer")))).isTrue();
  }

  @Test
  void otherFailuresAreNotFencing() {
    assertThat(WriteTransaction.fenced(new TimeoutException("no answer"))).isFalse();
    assertThat(WriteTransaction.fenced(new TransactionalIdAuthorizationException("no ACL"))).isFalse();
    assertThat(WriteTransaction.fenced(new IllegalStateException("the installation store is closed"))).isFalse();
  }

  @Test
  void everyInstallationOfEveryTopicHasATransactionalIdOfItsOwn() {
    assertThat(WriteTransaction.transactionalId("app-installations", "a.b"))
        .isEqualTo("app-installations/a.b")
        .isNotEqualTo(WriteTransaction.transactionalId("app-installations", "a-b"))
        .isNotEqualTo(WriteTransaction.transactionalId("other-installations", "a.b"));
  }
}
