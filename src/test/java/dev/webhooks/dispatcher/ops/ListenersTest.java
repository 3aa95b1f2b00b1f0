package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.DeliveryListener;
import dev.webhooks.dispatcher.delivery.Source;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
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
  void onlyTheEndpointsHostIsEverLogged() {
    assertThat(DeliveryLog.hostOf("https://hooks.example.com:8443/path/secret?token=t")).isEqualTo("hooks.example.com");
    assertThat(DeliveryLog.hostOf("")).isEmpty();
    assertThat(DeliveryLog.hostOf("not a url")).isEqualTo("(invalid endpoint)");
  }
}
