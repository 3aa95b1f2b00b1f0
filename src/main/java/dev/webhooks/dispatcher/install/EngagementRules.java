package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;

/** {@code capabilities.engagement}: every field required, each enumerated value from the spec (DESIGN 1.5). */
final class EngagementRules {
  private static final String PATH = "capabilities.engagement";
  private static final List<String> BOOLEANS =
      List.of("design_engagement", "design_window", "language_selection");
  private static final Set<String> ENTRY_POINTS = Set.of("section", "url");
  /** The spec's table, plus {@code cart_items}, which its example uses (DESIGN 1.5). */
  private static final Set<String> VISITOR_BEHAVIORS = Set.of("visited_location", "time_on_location", "flow",
      "engaged_in_session", "about_to_abandon", "cart_value", "cart_items", "visitor_error", "viewed_products",
      "service_activity");
  private static final Set<String> TARGET_AUDIENCES = Set.of("external_referral", "search_keywords", "ip",
      "platform", "geo_location", "returning_visitors", "marketing_source", "customer_type", "age", "balance",
      "customer_id", "gender", "store_zip_code", "store_number", "company_size", "registration_date");
  private static final Set<String> GOALS = Set.of("url", "purchase_total", "num_of_pages", "lead", "service_activity");
  private static final Set<String> CONSUMER_IDENTITIES = Set.of("auth", "unauth");

  private EngagementRules() {}

  static void validate(JsonNode engagement, List<Violation> out) {
    if (!engagement.isObject()) {
      out.add(new Violation(PATH, "must be an object"));
      return;
    }
    for (String field : BOOLEANS) {
      JsonNode value = engagement.get(field);
      if (value == null) {
        out.add(new Violation(PATH + "." + field, "is required"));
      } else if (!value.isBoolean()) {
        out.add(new Violation(PATH + "." + field, "must be true or false"));
      }
    }
    array(engagement, "entry_point", ENTRY_POINTS, out);
    array(engagement, "visitor_behavior", VISITOR_BEHAVIORS, out);
    array(engagement, "consumer_identity", CONSUMER_IDENTITIES, out);
    // DESIGN 1.5: the table says string, the spec's example sends arrays; both are accepted.
    stringOrArray(engagement, "target_audience", TARGET_AUDIENCES, out);
    stringOrArray(engagement, "goal", GOALS, out);
  }

  private static void array(JsonNode engagement, String field, Set<String> allowed, List<Violation> out) {
    JsonNode value = engagement.get(field);
    if (value == null) {
      out.add(new Violation(PATH + "." + field, "is required"));
    } else {
      Values.arrayOf(PATH + "." + field, value, allowed, true, out);
    }
  }

  private static void stringOrArray(JsonNode engagement, String field, Set<String> allowed, List<Violation> out) {
    JsonNode value = engagement.get(field);
    if (value == null) {
      out.add(new Violation(PATH + "." + field, "is required"));
    } else {
      Values.stringOrArrayOf(PATH + "." + field, value, allowed, out);
    }
  }
}
