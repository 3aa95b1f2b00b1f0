package dev.webhooks.dispatcher.intake;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What routing needs of a record's JSON, read in one streaming pass without building a tree (the tree cost ~8% of the
 * dispatcher's CPU). The pass still reads the whole document as strictly as {@link Json#read} does, so a record fails
 * here exactly when it would fail there. Texts follow {@code JsonNode.asText("")}: "" when missing, null, an object or
 * an array; a number as written.
 *
 * @param object whether the root is a JSON object; when not, {@code type} is "" and {@code changes} null
 * @param type the root's {@code type}
 * @param changes the elements of {@code body.changes}, or null when that is missing or not an array
 */
record Envelope(boolean object, String type, List<Change> changes) {

  /** An element of {@code body.changes}: whether it is an object, and its {@code event.type}. */
  record Change(boolean object, String eventType) {}

  private static final Change NOT_AN_OBJECT = new Change(false, "");

  /** Reads the whole value; throws what {@link Json#read} throws, but for a shorter trailing-token message. */
  static Envelope read(byte[] value) throws IOException {
    try (JsonParser parser = Json.parser(value)) {
      Envelope envelope = parser.nextToken() == JsonToken.START_OBJECT ? root(parser) : other(parser);
      JsonToken trailing = parser.nextToken();
      if (trailing != null) {
        throw new JsonParseException(parser, "Trailing token (of type " + trailing + ") found after value: not allowed");
      }
      return envelope;
    }
  }

  private static Envelope other(JsonParser parser) throws IOException {
    if (parser.currentToken() != null) { // null: empty input, which the tree reads as a missing node, not an object
      consume(parser);
    }
    return new Envelope(false, "", null);
  }

  private static Envelope root(JsonParser parser) throws IOException {
    String type = "";
    List<Change> changes = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      parser.nextToken();
      switch (name) {
        case "type" -> type = text(parser);
        case "body" -> changes = body(parser);
        default -> consume(parser);
      }
    }
    return new Envelope(true, type, changes);
  }

  private static List<Change> body(JsonParser parser) throws IOException {
    if (!parser.isExpectedStartObjectToken()) {
      consume(parser);
      return null;
    }
    List<Change> changes = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      parser.nextToken();
      if (name.equals("changes") && parser.isExpectedStartArrayToken()) {
        changes = changes(parser);
      } else {
        consume(parser);
      }
    }
    return changes;
  }

  private static List<Change> changes(JsonParser parser) throws IOException {
    List<Change> changes = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      changes.add(change(parser));
    }
    return changes;
  }

  private static Change change(JsonParser parser) throws IOException {
    if (!parser.isExpectedStartObjectToken()) {
      consume(parser);
      return NOT_AN_OBJECT;
    }
    String eventType = "";
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      parser.nextToken();
      if (name.equals("event") && parser.isExpectedStartObjectToken()) {
        eventType = eventType(parser);
      } else {
        consume(parser);
      }
    }
    return new Change(true, eventType);
  }

  private static String eventType(JsonParser parser) throws IOException {
    String type = "";
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      parser.nextToken();
      if (name.equals("type")) {
        type = text(parser);
      } else {
        consume(parser);
      }
    }
    return type;
  }

  private static String text(JsonParser parser) throws IOException {
    String text = parser.getValueAsString("");
    consume(parser);
    return text;
  }

  /**
   * Consumes the current value and everything in it, checking each scalar as building the tree would: a skipped
   * string is not decoded (an encoded surrogate would pass), and a float the tree holds as a BigDecimal may have
   * none (1e9999999999). Hence not {@code skipChildren()}. Iterative, so deep nesting only meets the parser's limit.
   */
  private static void consume(JsonParser parser) throws IOException {
    int depth = 0;
    JsonToken token = parser.currentToken();
    while (true) {
      switch (token) {
        case START_OBJECT, START_ARRAY -> depth++;
        case END_OBJECT, END_ARRAY -> depth--;
        case VALUE_STRING -> parser.finishToken();
        case VALUE_NUMBER_FLOAT -> parser.getDecimalValue();
        default -> {}
      }
      if (depth == 0) {
        return;
      }
      token = parser.nextToken();
    }
  }
}
