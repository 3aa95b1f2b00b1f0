package dev.webhooks.dispatcher.intake;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.webhooks.dispatcher.delivery.Bodies;
import dev.webhooks.dispatcher.delivery.Source;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A decoded notification: its account, and its changes grouped by webhook key in their original order.
 *
 * <p>{@link #bodyFor} gives the exact bytes to POST for one key: the record value unchanged when every change goes to
 * that key, otherwise the envelope with only that key's changes, serialized compactly with field order preserved.
 */
public final class Event {
  private final String accountId;
  private final byte[] raw;
  private final Map<String, List<Integer>> changesByKey;
  private final Source source;
  private final Map<String, Buffer> bodies = new HashMap<>();
  /** The parsed record, only for a record split across keys; decoding builds no tree, as most records need none. */
  private ObjectNode envelope;

  Event(String accountId, byte[] raw, LinkedHashMap<String, List<Integer>> changesByKey, Source source) {
    this.accountId = accountId;
    this.raw = raw;
    this.changesByKey = changesByKey;
    this.source = source;
  }

  public String accountId() {
    return accountId;
  }

  public Source source() {
    return source;
  }

  /** The webhook keys this event's changes map to, in the order they first appear. */
  public Set<String> webhookKeys() {
    return changesByKey.keySet();
  }

  /** The body for one of {@link #webhookKeys()}; computed once per key. Not thread-safe. */
  public Buffer bodyFor(String webhookKey) {
    return bodies.computeIfAbsent(webhookKey, this::render);
  }

  private Buffer render(String webhookKey) {
    if (changesByKey.size() == 1) {
      return Bodies.of(raw);
    }
    ObjectNode envelope = envelope();
    ArrayNode all = (ArrayNode) envelope.get("body").get("changes");
    ObjectNode copy = envelope.deepCopy();
    ArrayNode own = ((ObjectNode) copy.get("body")).putArray("changes");
    for (int index : changesByKey.get(webhookKey)) {
      own.add(all.get(index));
    }
    return Bodies.of(Json.write(copy));
  }

  private ObjectNode envelope() {
    if (envelope == null) {
      try {
        envelope = (ObjectNode) Json.read(raw);
      } catch (IOException e) {
        throw new UncheckedIOException("the decoder accepted only what Json.read reads", e);
      }
    }
    return envelope;
  }
}
