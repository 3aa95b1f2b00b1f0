package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Checks for enumerated values: each element's own path, and the allowed values named in the message. */
final class Values {
  private Values() {}

  /** An array of strings, each one of {@code allowed}; {@code required} also refuses an empty array. */
  static void arrayOf(String path, JsonNode node, Set<String> allowed, boolean required, List<Violation> out) {
    if (!node.isArray()) {
      out.add(new Violation(path, "must be an array of strings from: " + names(allowed)));
      return;
    }
    if (required && node.isEmpty()) {
      out.add(new Violation(path, "must name at least one of: " + names(allowed)));
    }
    for (int i = 0; i < node.size(); i++) {
      one(path + "[" + i + "]", node.get(i), allowed, out);
    }
  }

  /** One string or an array of strings (DESIGN 1.5 accepts both where the spec's table and example disagree). */
  static void stringOrArrayOf(String path, JsonNode node, Set<String> allowed, List<Violation> out) {
    if (node.isTextual()) {
      one(path, node, allowed, out);
    } else if (node.isArray()) {
      arrayOf(path, node, allowed, true, out);
    } else {
      out.add(new Violation(path, "must be a string or an array of strings from: " + names(allowed)));
    }
  }

  private static void one(String path, JsonNode value, Set<String> allowed, List<Violation> out) {
    if (!value.isTextual()) {
      out.add(new Violation(path, "must be a string, one of: " + names(allowed)));
    } else if (!allowed.contains(value.textValue())) {
      out.add(new Violation(path, "'" + value.textValue() + "' is not supported; use one of: " + names(allowed)));
    }
  }

  private static String names(Set<String> allowed) {
    return String.join(", ", new TreeSet<>(allowed));
  }
}
