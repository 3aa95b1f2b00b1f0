package dev.webhooks.dispatcher.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.testing.TestReceiver.ReceivedRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The books of a fault test: every produced event (named by its unique conversation id) must be delivered or
 * dead-lettered (lost = 0), every request for one event must carry one webhook-id, and an event the receiver accepted
 * must not also be a dead letter. {@link #check} asserts that and prints the figures.
 */
public final class Ledger {
  private static final Pattern CONVERSATION = Pattern.compile("\"conversationId\":\"([^\"]+)\"");

  /** What happened to the produced events. */
  public record Figures(
      String scenario, int produced, int delivered, int deadLettered, int lost, int attempts, int duplicates) {
    @Override
    public String toString() {
      return "%s: produced=%d delivered=%d dead-lettered=%d lost=%d attempts=%d duplicates=%d".formatted(
          scenario, produced, delivered, deadLettered, lost, attempts, duplicates);
    }
  }

  private Ledger() {}

  /**
   * @param produced the conversation ids of the events produced, one event each
   * @param requests what the receivers recorded (other events' requests are ignored)
   * @param deadLetters dead letters (other events' letters are ignored)
   * @param timeout the dispatcher's response timeout: an answer slower than that did not deliver
   */
  public static Figures check(String scenario, Collection<String> produced, List<ReceivedRequest> requests,
      List<ConsumerRecord<byte[], byte[]>> deadLetters, Duration timeout) {
    Set<String> events = new HashSet<>(produced);
    Map<String, Set<String>> idsByEvent = new HashMap<>();
    Map<String, Integer> okByEvent = new HashMap<>();
    int attempts = 0;
    for (ReceivedRequest request : requests) {
      String event = conversationOf(request.body().getBytes());
      if (!events.contains(event)) {
        continue;
      }
      attempts++;
      idsByEvent.computeIfAbsent(event, e -> new HashSet<>()).add(request.header("webhook-id"));
      if (request.answeredOkWithin(timeout)) {
        okByEvent.merge(event, 1, Integer::sum);
      }
    }
    Set<String> lettered = new HashSet<>();
    Map<String, Integer> reasons = new java.util.TreeMap<>();
    for (ConsumerRecord<byte[], byte[]> letter : deadLetters) {
      String event = conversationOf(letter.value());
      if (events.contains(event)) {
        lettered.add(event);
        String error = RunningService.header(letter, "error");
        reasons.merge(RunningService.header(letter, "reason") + " after " + RunningService.header(letter, "attempts")
            + " (" + (error == null ? "" : error.replaceAll("[0-9]+", "#")) + ")", 1, Integer::sum);
        String id = RunningService.header(letter, "webhook-id");
        if (idsByEvent.containsKey(event) && id != null && !id.isEmpty()) {
          idsByEvent.get(event).add(id);
        }
      }
    }
    int delivered = 0;
    int deadLettered = 0;
    int duplicates = 0;
    for (String event : events) {
      int ok = okByEvent.getOrDefault(event, 0);
      assertThat(ok > 0 && lettered.contains(event)).as("%s: %s was accepted and also dead-lettered", scenario, event)
          .isFalse();
      delivered += ok > 0 ? 1 : 0;
      deadLettered += ok == 0 && lettered.contains(event) ? 1 : 0;
      duplicates += Math.max(0, ok - 1);
      assertThat(idsByEvent.getOrDefault(event, Set.of())).as("%s: every request for %s has one webhook-id", scenario, event)
          .hasSizeLessThanOrEqualTo(1);
    }
    Figures figures = new Figures(scenario, events.size(), delivered, deadLettered,
        events.size() - delivered - deadLettered, attempts, duplicates);
    System.out.println("LEDGER " + figures + (reasons.isEmpty() ? "" : " dead letters: " + reasons));
    assertThat(figures.lost()).as(figures.toString()).isZero();
    return figures;
  }

  /** The events (conversation ids) the receiver has seen at least once. */
  public static Set<String> deliveredEvents(List<ReceivedRequest> requests) {
    Set<String> delivered = new HashSet<>();
    requests.forEach(r -> delivered.add(conversationOf(r.body().getBytes())));
    return delivered;
  }

  /** The conversation id in a body, or empty. */
  public static String conversationOf(byte[] body) {
    Matcher m = CONVERSATION.matcher(body == null ? "" : new String(body, StandardCharsets.UTF_8));
    return m.find() ? m.group(1) : "";
  }
}
