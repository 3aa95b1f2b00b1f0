package dev.webhooks.dispatcher.testing;

import java.nio.charset.StandardCharsets;

/** Notifications shaped like the modelled system's, for tests. */
public final class Events {
  private Events() {}

  public static String content(String conversationId, String message) {
    return messaging(change(conversationId, "{\"type\":\"ContentEvent\",\"message\":\"" + message + "\",\"contentType\":\"text/plain\"}"));
  }

  public static String richContent(String conversationId) {
    return messaging(change(conversationId,
        "{\"type\":\"RichContentEvent\",\"content\":{\"type\":\"vertical\",\"elements\":[{\"type\":\"text\",\"text\":\"hi\"}]}}"));
  }

  public static String acceptStatus(String conversationId) {
    return messaging(change(conversationId, "{\"type\":\"AcceptStatusEvent\",\"status\":\"READ\",\"sequenceList\":[0]}"));
  }

  public static String chatState(String conversationId) {
    return messaging(
        "{\"originatorId\":\"u1\",\"event\":{\"type\":\"ChatStateEvent\",\"chatState\":\"COMPOSING\"},"
            + "\"conversationId\":\"" + conversationId + "\",\"dialogId\":\"" + conversationId + "\"}");
  }

  public static String conversationChange(String conversationId) {
    return "{\"kind\":\"notification\",\"body\":{\"sentTs\":1528371161882,\"changes\":[{\"type\":\"UPSERT\",\"result\":{\"convId\":\""
        + conversationId
        + "\",\"conversationDetails\":{\"participants\":[{\"id\":\"p1\",\"role\":\"CONSUMER\"}],\"brandId\":\"64467156\","
        + "\"state\":\"OPEN\",\"startTs\":1528371161882,\"ttr\":{\"ttrType\":\"PRIORITIZED\",\"value\":600}}}}]},"
        + "\"type\":\"cqm.ExConversationChangeNotification\"}";
  }

  /** One record whose two changes belong to two webhook keys (a message and a read receipt). */
  public static String contentAndAcceptStatus(String conversationId) {
    return "{\"kind\":\"notification\",\"body\":{\"changes\":["
        + change(conversationId, "{\"type\":\"ContentEvent\",\"message\":\"one\",\"contentType\":\"text/plain\"}")
        + ","
        + change(conversationId, "{\"type\":\"AcceptStatusEvent\",\"status\":\"READ\",\"sequenceList\":[39]}")
        + ","
        + change(conversationId, "{\"type\":\"ContentEvent\",\"message\":\"two\",\"contentType\":\"text/plain\"}")
        + "]},\"type\":\"ms.MessagingEventNotification\"}";
  }

  public static byte[] bytes(String json) {
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static String messaging(String change) {
    return "{\"kind\":\"notification\",\"body\":{\"changes\":[" + change + "]},\"type\":\"ms.MessagingEventNotification\"}";
  }

  private static String change(String conversationId, String event) {
    return "{\"sequence\":39,\"originatorId\":\"adba3c0a\",\"originatorMetadata\":{\"id\":\"adba3c0a\",\"role\":\"CONSUMER\"},"
        + "\"serverTimestamp\":1641916856713,\"event\":" + event + ",\"conversationId\":\"" + conversationId
        + "\",\"dialogId\":\"" + conversationId + "\",\"messageAudience\":\"ALL\"}";
  }
}
