package dev.webhooks.dispatcher.install;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** The webhook keys an app can subscribe to, and how an event type names its metric label. */
public final class WebhookKeys {
  public static final String MESSAGING_PREFIX = "ms.MessagingEventNotification.";
  public static final String CONTENT = MESSAGING_PREFIX + "ContentEvent";
  public static final String RICH_CONTENT = MESSAGING_PREFIX + "RichContentEvent";
  public static final String ACCEPT_STATUS = MESSAGING_PREFIX + "AcceptStatusEvent";
  public static final String CHAT_STATE = MESSAGING_PREFIX + "ChatStateEvent";
  public static final String CONVERSATION_CHANGE = "cqm.ExConversationChangeNotification";
  /** The spec's table spells the conversation key this way; we accept it and store the canonical one. */
  public static final String CONVERSATION_CHANGE_ALIAS = MESSAGING_PREFIX + "ExConversationChangeNotification";

  public static final List<String> ALL = List.of(CONTENT, RICH_CONTENT, ACCEPT_STATUS, CHAT_STATE, CONVERSATION_CHANGE);
  private static final Map<String, String> EVENT_TYPES =
      ALL.stream().collect(Collectors.toUnmodifiableMap(key -> key, WebhookKeys::lastSegment));

  private WebhookKeys() {}

  /** The canonical key for a key a manifest may use, or empty when it is not one we deliver. */
  public static Optional<String> canonical(String key) {
    if (CONVERSATION_CHANGE_ALIAS.equals(key)) {
      return Optional.of(CONVERSATION_CHANGE);
    }
    return ALL.contains(key) ? Optional.of(key) : Optional.empty();
  }

  /** The low-cardinality {@code event_type} label of a key: its last segment, e.g. {@code ContentEvent}. */
  public static String eventType(String key) {
    String known = EVENT_TYPES.get(key); // the labels of the keys we deliver, made once: looked up per attempt
    return known != null ? known : lastSegment(key);
  }

  private static String lastSegment(String key) {
    return key.substring(key.lastIndexOf('.') + 1);
  }
}
