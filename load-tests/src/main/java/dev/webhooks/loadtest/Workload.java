package dev.webhooks.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The installed apps and the events: 20 accounts with 5 apps each (100 apps). App {@code 5a+t} of account {@code a}
 * subscribes to event type {@code t}, so every event has exactly one delivery, to app {@code 5a+t}, whose webhook is
 * endpoint {@code (5a+t) % 20}: all 20 endpoints get an even share of every type.
 */
final class Workload {
  static final int ACCOUNTS = 20;
  static final int APPS_PER_ACCOUNT = 5;
  static final int APPS = ACCOUNTS * APPS_PER_ACCOUNT;
  static final int ENDPOINTS = 20;
  static final int CONVERSATIONS = 2_000;
  static final List<String> KEYS = List.of(
      "ms.MessagingEventNotification.ContentEvent",
      "ms.MessagingEventNotification.RichContentEvent",
      "ms.MessagingEventNotification.AcceptStatusEvent",
      "ms.MessagingEventNotification.ChatStateEvent",
      "cqm.ExConversationChangeNotification");
  private static final String PAD = "x".repeat(2048);

  /** One installed app: its credentials are chosen here and imported, so the baseline can use the very same ones. */
  record App(int index, String account, String clientId, String secret, String key, int endpoint, int maxRetries) {}

  static List<App> apps(Scenario scenario) {
    List<App> apps = new ArrayList<>();
    for (int k = 0; k < APPS; k++) {
      int endpoint = k % ENDPOINTS;
      apps.add(new App(k, account(k / APPS_PER_ACCOUNT), "load-app-" + k, "load-secret-" + k + "-0123456789abcdef",
          KEYS.get(k % APPS_PER_ACCOUNT), endpoint, scenario.maxRetries(endpoint)));
    }
    return apps;
  }

  static String account(int a) {
    return "load-account-" + a;
  }

  /** The next event: which app it goes to (so also account and type) and its size; deterministic per seed. */
  record Event(int seq, int app, String conversation, String json) {}

  static Event event(SplittableRandom random, int seq, long intendedNanos, long epochMillis) {
    int account = random.nextInt(ACCOUNTS);
    int type = random.nextInt(APPS_PER_ACCOUNT);
    String conversation = "conv-" + random.nextInt(CONVERSATIONS);
    int size = 512 + random.nextInt(1537);
    String head = "{\"kind\":\"notification\",\"body\":{\"loadSeq\":" + seq + ",\"loadNs\":" + intendedNanos
        + ",\"sentTs\":" + epochMillis + ",\"changes\":[" + change(type, conversation) + "],\"loadPad\":\"";
    String tail = "\"},\"type\":\"" + (type == 4 ? "cqm.ExConversationChangeNotification" : "ms.MessagingEventNotification")
        + "\"}";
    int pad = Math.max(0, size - head.length() - tail.length());
    return new Event(seq, account * APPS_PER_ACCOUNT + type, conversation, head + PAD.substring(0, pad) + tail);
  }

  private static String change(int type, String conversation) {
    String event = switch (type) {
      case 0 -> "{\"type\":\"ContentEvent\",\"message\":\"Hello, I would like to change my booking\","
          + "\"contentType\":\"text/plain\"}";
      case 1 -> "{\"type\":\"RichContentEvent\",\"content\":{\"type\":\"vertical\",\"elements\":"
          + "[{\"type\":\"text\",\"text\":\"Choose an option\"},{\"type\":\"button\",\"title\":\"Yes\"}]}}";
      case 2 -> "{\"type\":\"AcceptStatusEvent\",\"status\":\"READ\",\"sequenceList\":[0,1,2]}";
      case 3 -> "{\"type\":\"ChatStateEvent\",\"chatState\":\"COMPOSING\"}";
      default -> null;
    };
    if (event == null) {
      return "{\"type\":\"UPSERT\",\"result\":{\"convId\":\"" + conversation + "\",\"conversationDetails\":"
          + "{\"participants\":[{\"id\":\"p1\",\"role\":\"CONSUMER\"}],\"brandId\":\"64467156\",\"state\":\"OPEN\","
          + "\"startTs\":1528371161882,\"ttr\":{\"ttrType\":\"PRIORITIZED\",\"value\":600}}}}";
    }
    return "{\"sequence\":39,\"originatorId\":\"adba3c0a\",\"originatorMetadata\":{\"id\":\"adba3c0a\","
        + "\"role\":\"CONSUMER\"},\"serverTimestamp\":1641916856713,\"event\":" + event + ",\"conversationId\":\""
        + conversation + "\",\"dialogId\":\"" + conversation + "\",\"messageAudience\":\"ALL\"}";
  }

  private Workload() {}
}
