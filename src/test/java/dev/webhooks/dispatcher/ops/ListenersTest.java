package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.delivery.DeliveryListener;
import dev.webhooks.dispatcher.delivery.DeliveryOutcome;
import dev.webhooks.dispatcher.delivery.Source;
import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.Webhook;
import dev.webhooks.dispatcher.install.WebhookKeys;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

class ListenersTest {
  private static final DeadLetter LETTER = new DeadLetter("acc", "client", "ms.MessagingEventNotification.ContentEvent",
      "msg_1", "https://hooks.example.com/x?token=t", 1, OptionalInt.of(500), "exhausted", "gave up",
      new Source("events", 0, 7, 0), Buffer.buffer("{}"));

  @Test
  void everyListenerHearsEachCallInOrderEvenWhenAnEarlierOneThrows() {
    List<String> heard = new ArrayList<>();
    DeliveryListener failing = new DeliveryListener() {
      @Override
      public void deadLettered(DeadLetter deadLetter) {
        heard.add("first");
        throw new IllegalStateException("broken listener");
      }
    };
    DeliveryListener recording = new DeliveryListener() {
      @Override
      public void deadLettered(DeadLetter deadLetter) {
        heard.add("second");
      }
    };

    assertThatThrownBy(() -> Listeners.of(failing, recording).deadLettered(LETTER))
        .hasMessage("broken listener");
    assertThat(heard).containsExactly("first", "second");
  }

  @Test
  void anAttemptRefusedByAnOpenCircuitIsNoWarningButATimeoutIs() {
    Webhook webhook = new Webhook("https://hooks.example.com/x", 5, List.of());
    Installation app = new Installation("client", "acc", true, Map.of(WebhookKeys.CONTENT, webhook), List.of("s"),
        JsonNodeFactory.instance.objectNode(), 0, "1");
    Delivery delivery = new Delivery("msg_1", app, WebhookKeys.CONTENT, webhook, Buffer.buffer("{}"), LETTER.source());
    RecordingAppender logs = RecordingAppender.attach();
    try {
      new DeliveryLog().attempted(delivery, 2, failure(DeliveryOutcome.CIRCUIT_OPEN), Duration.ZERO);
      new DeliveryLog().attempted(delivery, 3, failure("timeout"), Duration.ofSeconds(5));

      assertThat(logs.events()).filteredOn(e -> e.getLoggerName().equals(DeliveryLog.class.getName()))
          .singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.WARN);
            assertThat(e.getMessage().getFormattedMessage()).contains("attempt=3").contains("reason=timeout");
          });
    } finally {
      logs.detach();
    }
  }

  @Test
  void aDeferredAttemptIsOneInfoLineOfItsOwnNotAFailedAttempt() {
    Webhook webhook = new Webhook("https://hooks.example.com/x?token=t", 0, List.of());
    Installation app = new Installation("client", "acc", true, Map.of(WebhookKeys.CONTENT, webhook), List.of("s"),
        JsonNodeFactory.instance.objectNode(), 0, "1");
    Delivery delivery = new Delivery("msg_1", app, WebhookKeys.CONTENT, webhook, Buffer.buffer("{}"), LETTER.source());
    RecordingAppender logs = RecordingAppender.attach();
    try {
      Listeners.of(new DeliveryLog()).deferred(delivery, 1, 2, failure(DeliveryOutcome.NO_FREE_CONNECTION));

      assertThat(logs.events()).filteredOn(e -> e.getLoggerName().equals(DeliveryLog.class.getName()))
          .singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(Level.INFO);
            assertThat(e.getMessage().getFormattedMessage()).startsWith("delivery attempt deferred:")
                .contains("endpoint_host=hooks.example.com ").contains("attempt=1 deferral=2")
                .contains("reason=no-free-connection").doesNotContain("token");
            assertThat(e.getContextData().toMap()).containsEntry("deferral", "2").containsEntry("attempt", "1")
                .containsEntry("webhook_id", "msg_1");
          });
    } finally {
      logs.detach();
    }
  }

  @Test
  void aFailedAttemptSaysWhyLastWithoutTheEndpointsPathOrQuery() {
    Webhook webhook = new Webhook("https://hooks.example.com/x/hook?token=t0k3n", 5, List.of());
    Installation app = new Installation("client", "acc", true, Map.of(WebhookKeys.CONTENT, webhook), List.of("s"),
        JsonNodeFactory.instance.objectNode(), 0, "1");
    Delivery delivery = new Delivery("msg_1", app, WebhookKeys.CONTENT, webhook, Buffer.buffer("{}"), LETTER.source());
    String why = "TLS with hooks.example.com failed: PKIX path building failed; add that CA to DELIVERY_TRUSTED_CA_PEM";
    RecordingAppender logs = RecordingAppender.attach();
    try {
      new DeliveryLog().attempted(delivery, 1, new DeliveryOutcome.RetryableFailure(OptionalInt.empty(), "tls", why,
          Optional.empty()), Duration.ZERO);
      // an error that quotes the request (as some client exceptions do) loses its path and query
      new DeliveryLog().attempted(delivery, 2, new DeliveryOutcome.RetryableFailure(OptionalInt.empty(), "io-error",
          "hooks.example.com: failed POST /x/hook?token=t0k3n\nsecond line", Optional.empty()), Duration.ZERO);

      assertThat(logs.events()).filteredOn(e -> e.getLoggerName().equals(DeliveryLog.class.getName()))
          .satisfiesExactly(
              e -> {
                assertThat(e.getMessage().getFormattedMessage())
                    .endsWith("attempt=1 webhook_id=msg_1 reason=tls error=" + why);
                assertThat(e.getContextData().toMap()).containsEntry("error", why).containsEntry("reason", "tls");
              },
              e -> {
                assertThat(e.getMessage().getFormattedMessage())
                    .endsWith("reason=io-error error=hooks.example.com: failed POST (path) second line");
                assertThat(RecordingAppender.everything(e)).doesNotContain("t0k3n").doesNotContain("/x/hook");
              });
    } finally {
      logs.detach();
    }
  }

  @Test
  void aDeadLetterSaysWhyAfterItsSource() {
    RecordingAppender logs = RecordingAppender.attach();
    try {
      new DeliveryLog().deadLettered(LETTER);

      assertThat(logs.events()).filteredOn(e -> e.getLoggerName().equals(DeliveryLog.class.getName()))
          .singleElement().satisfies(e -> {
            assertThat(e.getMessage().getFormattedMessage()).isEqualTo("dead letter written: account=acc"
                + " client_id=client webhook_key=ms.MessagingEventNotification.ContentEvent"
                + " endpoint_host=hooks.example.com status=500 attempt=1 webhook_id=msg_1 reason=exhausted"
                + " source=events/0/7 error=gave up");
            assertThat(e.getContextData().toMap()).containsEntry("error", "gave up")
                .containsEntry("source", "events/0/7");
          });
    } finally {
      logs.detach();
    }
  }

  @Test
  void aRecordRejectedAtIntakeIsAShortLineWithNoEmptyFields() {
    DeadLetter rejected = new DeadLetter("123", "", "", "", "", 0, OptionalInt.empty(), "unknown-type",
        "body.changes[0].event.type 'TypingEvent' is not a known event type", new Source("events", 2, 9, 0),
        Buffer.buffer("{\"secret\":\"body\"}"));
    DeadLetter noAccount = new DeadLetter("", "", "", "", "", 0, OptionalInt.empty(), "missing-account",
        "record has no UTF-8 'account-id' header", new Source("events", 2, 10, 0), Buffer.buffer("{}"));
    RecordingAppender logs = RecordingAppender.attach();
    try {
      new DeliveryLog().deadLettered(rejected);
      new DeliveryLog().deadLettered(noAccount);

      assertThat(logs.events()).filteredOn(e -> e.getLoggerName().equals(DeliveryLog.class.getName()))
          .satisfiesExactly(
              e -> {
                assertThat(e.getMessage().getFormattedMessage()).isEqualTo("dead letter written: account=123"
                    + " reason=unknown-type source=events/2/9"
                    + " error=body.changes[0].event.type 'TypingEvent' is not a known event type");
                assertThat(e.getContextData().toMap()).containsOnlyKeys("account", "reason", "source", "error");
                assertThat(RecordingAppender.everything(e)).doesNotContain("secret");
              },
              e -> {
                assertThat(e.getMessage().getFormattedMessage()).isEqualTo("dead letter written:"
                    + " reason=missing-account source=events/2/10 error=record has no UTF-8 'account-id' header");
                assertThat(e.getContextData().toMap()).containsOnlyKeys("reason", "source", "error");
              });
    } finally {
      logs.detach();
    }
  }

  private static DeliveryOutcome failure(String reason) {
    return new DeliveryOutcome.RetryableFailure(OptionalInt.empty(), reason, "hooks.example.com: " + reason,
        Optional.empty());
  }

  @Test
  void onlyTheEndpointsHostIsEverLogged() {
    assertThat(DeliveryLog.hostOf("https://hooks.example.com:8443/path/secret?token=t")).isEqualTo("hooks.example.com");
    assertThat(DeliveryLog.hostOf("")).isEmpty();
    assertThat(DeliveryLog.hostOf("not a url")).isEqualTo("(invalid endpoint)");
  }
}
