package dev.webhooks.dispatcher.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Prometheus text format read back: the sum of a metric's samples whose labels include the given ones. */
final class Scrape {
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private final String text;

  Scrape(String text) {
    this.text = text;
  }

  /** The sum over samples named exactly {@code name} carrying every label in {@code labels}; 0 when there are none. */
  double sum(String name, Map<String, String> labels) {
    return values(name, labels).stream().mapToDouble(Double::doubleValue).sum();
  }

  double sum(String name) {
    return sum(name, Map.of());
  }

  /** The values of the samples named exactly {@code name} carrying every label in {@code labels}, in order. */
  List<Double> values(String name, Map<String, String> labels) {
    List<Double> values = new ArrayList<>();
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line.trim());
      if (line.startsWith("#") || !m.matches() || !m.group(1).equals(name)) {
        continue;
      }
      if (matches(m.group(3) == null ? "" : m.group(3), labels)) {
        values.add(Double.parseDouble(m.group(4)));
      }
    }
    return values;
  }

  private static boolean matches(String labelText, Map<String, String> wanted) {
    for (Map.Entry<String, String> w : wanted.entrySet()) {
      Matcher m = LABEL.matcher(labelText);
      boolean found = false;
      while (m.find()) {
        found |= m.group(1).equals(w.getKey()) && m.group(2).equals(w.getValue());
      }
      if (!found) {
        return false;
      }
    }
    return true;
  }
}
