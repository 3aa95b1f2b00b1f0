package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WebhookKeysTest {
  @ParameterizedTest(name = "{0} is labelled {1}")
  @CsvSource({
      "ms.MessagingEventNotification.ContentEvent, ContentEvent",
      "ms.MessagingEventNotification.RichContentEvent, RichContentEvent",
      "ms.MessagingEventNotification.AcceptStatusEvent, AcceptStatusEvent",
      "ms.MessagingEventNotification.ChatStateEvent, ChatStateEvent",
      "cqm.ExConversationChangeNotification, ExConversationChangeNotification",
      // not a key we store, e.g. in a dead letter from elsewhere: labelled the same way
      "ms.MessagingEventNotification.ExConversationChangeNotification, ExConversationChangeNotification",
      "SomethingElse, SomethingElse"})
  void anEventTypeIsTheKeysLastSegment(String key, String label) {
    assertThat(WebhookKeys.eventType(key)).isEqualTo(label);
  }
}
