package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Test;

class RetryTest {
  private static final Retry RETRY = new Retry("le1", "client-1", "ms.MessagingEventNotification.ContentEvent",
      "wh_events_2_77_x", "https://example.com/a?b=1", 3, 2, 1_700_000_123_456L, OptionalInt.of(503),
      "example.com answered HTTP 503\nsecond line", new Source("my.events-topic", 2, 77, 1_700_000_000_000L),
      Buffer.buffer("{\"kind\":\"notification\"}"));

  @Test
  void readsBackWhatItWrites() {
    Retry read = Retry.fromRecord(consumed(RETRY.toRecord("retries")));

    assertThat(read).usingRecursiveComparison().ignoringFields("lastError")
        .withEqualsForFields(Object::equals, "body") // the bytes, however the buffer holds them
        .isEqualTo(RETRY);
    assertThat(read.lastError()).isEqualTo("example.com answered HTTP 503 second line");
  }

  @Test
  void anEmptyLastStatusMeansNoAnswer() {
    Retry timedOut = new Retry("le1", "c", "k", "id", "", 1, 0, 5, OptionalInt.empty(), "timeout", RETRY.source(),
        Buffer.buffer());

    assertThat(Retry.fromRecord(consumed(timedOut.toRecord("retries"))).lastStatus()).isEmpty();
  }

  @Test
  void aDeliveryDeferredBeforeItsFirstAttemptHasNoAttemptsButOneDeferral() {
    Retry heldBack = new Retry("le1", "c", "k", "id", "", 0, 1, 5, OptionalInt.empty(),
        "no free connection to example.com within 5000 ms (32 attempts in flight, 1 waiting)", RETRY.source(),
        Buffer.buffer());

    Retry read = Retry.fromRecord(consumed(heldBack.toRecord("retries")));

    assertThat(read.attempts()).isZero();
    assertThat(read.deferrals()).isEqualTo(1);
  }

  @Test
  void aRecordWrittenBeforeDeferralsExistedWasNeverDeferred() {
    Retry read = Retry.fromRecord(consumed(RETRY.toRecord("retries"), "deferrals", null));

    assertThat(read.deferrals()).isZero();
    assertThat(read.attempts()).isEqualTo(3);
  }

  @Test
  void aRetryFollowsAnAttemptOrADeferral() {
    Retry neverDeferred = new Retry("le1", "c", "k", "id", "", 1, 0, 5, OptionalInt.empty(), "", RETRY.source(),
        Buffer.buffer());
    assertThatThrownBy(() -> Retry.fromRecord(consumed(neverDeferred.toRecord("retries"), "attempts", "0")))
        .as("0 attempts in a record that was never deferred")
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 attempts and 0 deferrals");
  }

  @Test
  void namesTheHeaderThatIsMissingOrMalformed() {
    ProducerRecord<byte[], byte[]> written = RETRY.toRecord("retries");

    assertThatThrownBy(() -> Retry.fromRecord(consumed(written, "client-id", null)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'client-id'");
    assertThatThrownBy(() -> Retry.fromRecord(consumed(written, "attempts", "three")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'attempts'").hasMessageContaining("three");
    assertThatThrownBy(() -> Retry.fromRecord(consumed(written, "attempts", "-1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of range");
    assertThatThrownBy(() -> Retry.fromRecord(consumed(written, "deferrals", "2x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'deferrals'").hasMessageContaining("2x");
    assertThatThrownBy(() -> Retry.fromRecord(consumed(written, "source", "no-slashes")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'source'");
    assertThatThrownBy(() -> Retry.fromRecord(consumed(written, "due-at", "")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'due-at'");
  }

  private static ConsumerRecord<byte[], byte[]> consumed(ProducerRecord<byte[], byte[]> written) {
    ConsumerRecord<byte[], byte[]> record =
        new ConsumerRecord<>(written.topic(), 0, 0, written.key(), written.value());
    written.headers().forEach(record.headers()::add);
    return record;
  }

  /** The record with one header replaced ({@code null}: removed). */
  private static ConsumerRecord<byte[], byte[]> consumed(ProducerRecord<byte[], byte[]> written, String name,
      String value) {
    ConsumerRecord<byte[], byte[]> record = consumed(written);
    record.headers().remove(name);
    if (value != null) {
      record.headers().add(new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8)));
    }
    return record;
  }
}
