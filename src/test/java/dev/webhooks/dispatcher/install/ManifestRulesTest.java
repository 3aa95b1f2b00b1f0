package dev.webhooks.dispatcher.install;

import static dev.webhooks.dispatcher.install.Manifests.specExample;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every rule of the spec, as DESIGN 1.5 settles it: a valid case at each boundary and an invalid one just past it,
 * each starting from the spec's own example and asserting the exact path of the one violation (or none).
 */
class ManifestRulesTest {
  private static final String CONTENT = "capabilities.webhooks['ms.MessagingEventNotification.ContentEvent']";
  private static final String ENGAGEMENT = "capabilities.engagement";
  private static final String OK = null;

  private final ManifestValidator validator = new ManifestValidator();

  static Stream<Arguments> rules() {
    List<Arguments> rows = new ArrayList<>();
    // client_name: required, 1..128, localized variants under client_name#<tag>
    rows.add(row("client_name 1", m -> m.put("client_name", "x"), OK));
    rows.add(row("client_name 128", m -> m.put("client_name", "x".repeat(128)), OK));
    rows.add(row("client_name 129", m -> m.put("client_name", "x".repeat(129)), "client_name"));
    rows.add(row("client_name 0", m -> m.put("client_name", ""), "client_name"));
    rows.add(row("client_name missing", m -> m.remove("client_name"), "client_name"));
    rows.add(row("client_name null", m -> m.putNull("client_name"), "client_name"));
    rows.add(row("client_name array", m -> m.putArray("client_name").add("x"), "client_name"));
    rows.add(row("client_name 128 code points", m -> m.put("client_name", "\uD83D\uDE00".repeat(128)), OK));
    rows.add(row("client_name#ja-JP", m -> m.put("client_name#ja-JP", "x".repeat(128)), OK));
    rows.add(row("client_name#ja-JP 129", m -> m.put("client_name#ja-JP", "x".repeat(129)), "client_name#ja-JP"));
    rows.add(row("client_name#zh-Hant-TW", m -> m.put("client_name#zh-Hant-TW", "x"), OK));
    rows.add(row("client_name# empty tag", m -> m.put("client_name#", "x"), "client_name#"));
    rows.add(row("client_name#1x", m -> m.put("client_name#1x", "x"), "client_name#1x"));
    rows.add(row("client_name#x-pirate (private use)", m -> m.put("client_name#x-pirate", "x"), OK));
    rows.add(row("client_name#i-klingon (grandfathered)", m -> m.put("client_name#i-klingon", "x"), OK));
    rows.add(row("client_name#en-US-x-twain", m -> m.put("client_name#en-US-x-twain", "x"), OK));
    rows.add(row("client_name#sr-Latn-RS-u-nu-latn", m -> m.put("client_name#sr-Latn-RS-u-nu-latn", "x"), OK));
    rows.add(row("client_name#en-a (lone singleton)", m -> m.put("client_name#en-a", "x"), "client_name#en-a"));
    rows.add(row("client_name#en--US", m -> m.put("client_name#en--US", "x"), "client_name#en--US"));
    rows.add(row("client_name#en_US", m -> m.put("client_name#en_US", "x"), "client_name#en_US"));
    rows.add(row("client_name#abcdefghi", m -> m.put("client_name#abcdefghi", "x"), "client_name#abcdefghi"));
    // description: optional, 0..256
    rows.add(row("description 256", m -> m.put("description", "d".repeat(256)), OK));
    rows.add(row("description 257", m -> m.put("description", "d".repeat(257)), "description"));
    rows.add(row("description number", m -> m.put("description", 1), "description"));
    rows.add(row("description absent", m -> m.remove("description"), OK));
    // grant_types: array of {client_credentials}
    rows.add(row("grant_types empty", m -> m.putArray("grant_types"), OK));
    rows.add(row("grant_types unknown", m -> m.putArray("grant_types").add("password"), "grant_types[0]"));
    rows.add(row("grant_types string", m -> m.put("grant_types", "client_credentials"), "grant_types"));
    rows.add(row("grant_types number item", m -> m.putArray("grant_types").add("client_credentials").add(1),
        "grant_types[1]"));
    // response_types: string or array of {code}
    rows.add(row("response_types string", m -> m.put("response_types", "code"), OK));
    rows.add(row("response_types array", m -> m.putArray("response_types").add("code"), OK));
    rows.add(row("response_types unknown", m -> m.put("response_types", "token"), "response_types"));
    rows.add(row("response_types unknown item", m -> m.putArray("response_types").add("code").add("token"),
        "response_types[1]"));
    rows.add(row("response_types object", m -> m.putObject("response_types"), "response_types"));
    // redirect_uris: array of URIs, each max 128
    rows.add(row("redirect_uri 128", m -> m.putArray("redirect_uris").add(url(128)), OK));
    rows.add(row("redirect_uri 129", m -> m.putArray("redirect_uris").add(url(129)), "redirect_uris[0]"));
    rows.add(row("redirect_uri relative", m -> m.putArray("redirect_uris").add("callback"), "redirect_uris[0]"));
    rows.add(row("redirect_uris string", m -> m.put("redirect_uris", "https://a.example"), "redirect_uris"));
    rows.add(row("redirect_uri number", m -> m.putArray("redirect_uris").add(3), "redirect_uris[0]"));
    // scope: string of space-separated {msg.consumer}, max 128
    rows.add(row("scope msg.consumer", m -> m.put("scope", "msg.consumer"), OK));
    rows.add(row("scope unknown", m -> m.put("scope", "msg.consumer admin"), "scope"));
    rows.add(row("scope 128", m -> m.put("scope", "msg.consumer" + " ".repeat(116)), OK));
    rows.add(row("scope 129", m -> m.put("scope", "msg.consumer" + " ".repeat(117)), "scope"));
    rows.add(row("scope array", m -> m.putArray("scope").add("msg.consumer"), "scope"));
    // logo_uri: a path or an https URL, max 1024
    rows.add(row("logo_uri path", m -> m.put("logo_uri", "/img/logo.png"), OK));
    rows.add(row("logo_uri https", m -> m.put("logo_uri", "https://cdn.example/logo.png"), OK));
    rows.add(row("logo_uri 1024", m -> m.put("logo_uri", "/" + "l".repeat(1023)), OK));
    rows.add(row("logo_uri 1025", m -> m.put("logo_uri", "/" + "l".repeat(1024)), "logo_uri"));
    rows.add(row("logo_uri http", m -> m.put("logo_uri", "http://cdn.example/logo.png"), "logo_uri"));
    rows.add(row("logo_uri javascript", m -> m.put("logo_uri", "javascript:alert(1)"), "logo_uri"));
    rows.add(row("logo_uri number", m -> m.put("logo_uri", 70), "logo_uri"));
    // enabled: boolean
    rows.add(row("enabled false", m -> m.put("enabled", false), OK));
    rows.add(row("enabled string", m -> m.put("enabled", "true"), "enabled"));
    rows.add(row("enabled number", m -> m.put("enabled", 1), "enabled"));
    // capabilities
    rows.add(row("capabilities absent", m -> m.remove("capabilities"), OK));
    rows.add(row("capabilities array", m -> m.putArray("capabilities"), "capabilities"));
    rows.add(row("unknown capability", m -> m.withObject("/capabilities").putObject("voice"), "capabilities.voice"));
    rows.add(row("webhooks array", m -> m.withObject("/capabilities").putArray("webhooks"), "capabilities.webhooks"));
    // webhook endpoint: required, https://
    rows.add(row("endpoint https", m -> content(m).put("endpoint", "https://a.example/h?x=1"), OK));
    rows.add(row("endpoint http", m -> content(m).put("endpoint", "http://a.example/h"), CONTENT + ".endpoint"));
    rows.add(row("endpoint HTTPS upper", m -> content(m).put("endpoint", "HTTPS://a.example/h"), CONTENT + ".endpoint"));
    rows.add(row("endpoint missing", m -> content(m).remove("endpoint"), CONTENT + ".endpoint"));
    rows.add(row("endpoint number", m -> content(m).put("endpoint", 443), CONTENT + ".endpoint"));
    // endpoint port: 1..65535 (java.net.URI takes any digits)
    rows.add(row("endpoint port 1", m -> content(m).put("endpoint", "https://a.example:1/h"), OK));
    rows.add(row("endpoint port 65535", m -> content(m).put("endpoint", "https://a.example:65535/h"), OK));
    rows.add(row("endpoint port 0", m -> content(m).put("endpoint", "https://a.example:0/h"), CONTENT + ".endpoint"));
    rows.add(row("endpoint port 65536", m -> content(m).put("endpoint", "https://a.example:65536/h"),
        CONTENT + ".endpoint"));
    rows.add(row("endpoint port 70000", m -> content(m).put("endpoint", "https://a.example:70000/h"),
        CONTENT + ".endpoint"));
    // max_retries: integer 0..5
    rows.add(row("max_retries -1", m -> content(m).put("max_retries", -1), CONTENT + ".max_retries"));
    rows.add(row("max_retries 0", m -> content(m).put("max_retries", 0), OK));
    rows.add(row("max_retries 5", m -> content(m).put("max_retries", 5), OK));
    rows.add(row("max_retries 6", m -> content(m).put("max_retries", 6), CONTENT + ".max_retries"));
    rows.add(row("max_retries \"3\"", m -> content(m).put("max_retries", "3"), CONTENT + ".max_retries"));
    rows.add(row("max_retries 3.5", m -> content(m).put("max_retries", 3.5), CONTENT + ".max_retries"));
    rows.add(row("max_retries true", m -> content(m).put("max_retries", true), CONTENT + ".max_retries"));
    rows.add(row("max_retries huge", m -> content(m).put("max_retries", new java.math.BigInteger("9".repeat(30))),
        CONTENT + ".max_retries"));
    // headers: 20 at most; name a token of 1..256; value visible ASCII, space, tab, <= 4096; reserved names refused
    rows.add(row("20 headers", m -> headers(m, 20), OK));
    rows.add(row("21 headers", m -> headers(m, 21), CONTENT + ".headers"));
    rows.add(row("header name 256", m -> header(m, "N".repeat(256), "v"), OK));
    rows.add(row("header name 257", m -> header(m, "N".repeat(257), "v"), CONTENT + ".headers[0].header_name"));
    rows.add(row("header name empty", m -> header(m, "", "v"), CONTENT + ".headers[0].header_name"));
    rows.add(row("header name space", m -> header(m, "X A", "v"), CONTENT + ".headers[0].header_name"));
    rows.add(row("header value 4096", m -> header(m, "X-A", "v".repeat(4096)), OK));
    rows.add(row("header value 4097", m -> header(m, "X-A", "v".repeat(4097)), CONTENT + ".headers[0].header_value"));
    rows.add(row("header value tab", m -> header(m, "X-A", "a\tb c"), OK));
    rows.add(row("header value non-ASCII", m -> header(m, "X-A", "caf\u00e9"), CONTENT + ".headers[0].header_value"));
    rows.add(row("header value number", m -> content(m).putArray("headers").addObject().put("header_name", "X-A")
        .put("header_value", 1), CONTENT + ".headers[0].header_value"));
    rows.add(row("header name missing", m -> content(m).putArray("headers").addObject().put("header_value", "v"),
        CONTENT + ".headers[0].header_name"));
    rows.add(row("header not an object", m -> content(m).putArray("headers").add("X-A: v"), CONTENT + ".headers[0]"));
    for (String reserved : List.of("Content-Length", "Transfer-Encoding", "Connection", "x-liveperson-account-id",
        "Webhook-Signature")) {
      rows.add(row("reserved " + reserved, m -> header(m, reserved, "v"), CONTENT + ".headers[0].header_name"));
    }
    // webhook keys
    rows.add(row("alias conversation key", m -> {
      webhooks(m).remove("cqm.ExConversationChangeNotification");
      webhooks(m).putObject("ms.MessagingEventNotification.ExConversationChangeNotification")
          .put("endpoint", "https://a.example");
    }, OK));
    rows.add(row("key given twice", m -> webhooks(m).putObject("ms.MessagingEventNotification."
        + "ExConversationChangeNotification").put("endpoint", "https://a.example"),
        "capabilities.webhooks['ms.MessagingEventNotification.ExConversationChangeNotification']"));
    rows.add(row("unknown key", m -> webhooks(m).putObject("ms.MessagingEventNotification.Nope")
        .put("endpoint", "https://a.example"), "capabilities.webhooks['ms.MessagingEventNotification.Nope']"));
    rows.add(row("retention 2", m -> webhooks(m).putObject("retry").put("retention_time", 2), OK));
    rows.add(row("retention 259200", m -> webhooks(m).putObject("retry").put("retention_time", 259_200), OK));
    rows.add(row("retention 1", m -> webhooks(m).putObject("retry").put("retention_time", 1),
        "capabilities.webhooks['retry'].retention_time"));
    rows.add(row("retention 259201", m -> webhooks(m).putObject("retry").put("retention_time", 259_201),
        "capabilities.webhooks['retry'].retention_time"));
    // engagement: every field required and typed, each enumerated value
    for (String field : List.of("design_engagement", "design_window", "language_selection")) {
      rows.add(row(field + " missing", m -> engagement(m).remove(field), ENGAGEMENT + "." + field));
      rows.add(row(field + " string", m -> engagement(m).put(field, "false"), ENGAGEMENT + "." + field));
      rows.add(row(field + " true", m -> engagement(m).put(field, true), OK));
    }
    enumerated(rows, "entry_point", List.of("section", "url"), false);
    enumerated(rows, "visitor_behavior", List.of("visited_location", "time_on_location", "flow", "engaged_in_session",
        "about_to_abandon", "cart_value", "cart_items", "visitor_error", "viewed_products", "service_activity"), false);
    enumerated(rows, "consumer_identity", List.of("auth", "unauth"), false);
    enumerated(rows, "target_audience", List.of("external_referral", "search_keywords", "ip", "platform",
        "geo_location", "returning_visitors", "marketing_source", "customer_type", "age", "balance", "customer_id",
        "gender", "store_zip_code", "store_number", "company_size", "registration_date"), true);
    enumerated(rows, "goal", List.of("url", "purchase_total", "num_of_pages", "lead", "service_activity"), true);
    rows.add(row("engagement array", m -> m.withObject("/capabilities").putArray("engagement"), ENGAGEMENT));
    // nesting: at most MAX_DEPTH levels of objects and arrays, the manifest being the first
    int depth = ManifestValidator.MAX_DEPTH;
    rows.add(row("nested " + depth + " levels", m -> m.set("future", nested(depth - 1)), OK));
    rows.add(row("nested " + (depth + 1) + " levels", m -> m.set("future", nested(depth)),
        "future" + "[0]".repeat(depth - 1)));
    rows.add(row("nested too deep in a webhook", m -> content(m).set("extra", nested(depth)),
        CONTENT + ".extra" + "[0]".repeat(depth - 4)));
    rows.add(row("nested too deep under a quoted name", m -> m.putObject("a.b").set("c", nested(depth)),
        "['a.b'].c" + "[0]".repeat(depth - 2)));
    return rows.stream();
  }

  /** Each allowed value alone, one unknown value, an empty array, a wrong type, and missing. */
  private static void enumerated(List<Arguments> rows, String field, List<String> allowed, boolean stringToo) {
    String path = ENGAGEMENT + "." + field;
    for (String value : allowed) {
      rows.add(row(field + " [" + value + "]", m -> engagement(m).putArray(field).add(value), OK));
      if (stringToo) {
        rows.add(row(field + " \"" + value + "\"", m -> engagement(m).put(field, value), OK));
      }
    }
    rows.add(row(field + " unknown", m -> engagement(m).putArray(field).add(allowed.get(0)).add("nope"), path + "[1]"));
    rows.add(row(field + " empty", m -> engagement(m).putArray(field), path));
    rows.add(row(field + " missing", m -> engagement(m).remove(field), path));
    rows.add(row(field + " number", m -> engagement(m).put(field, 1), path));
    rows.add(row(field + " string", m -> engagement(m).put(field, allowed.get(0)), stringToo ? OK : path));
    if (stringToo) {
      rows.add(row(field + " unknown string", m -> engagement(m).put(field, "nope"), path));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rules")
  void appliesTheRuleAtItsPath(String name, Consumer<ObjectNode> change, String path) {
    ObjectNode manifest = specExample();
    change.accept(manifest);
    List<Violation> found = validator.validate(manifest);
    if (path == null) {
      assertThat(found).isEmpty();
    } else {
      assertThat(found).extracting(Violation::path).containsExactly(path);
      assertThat(found.get(0).message()).isNotBlank();
    }
  }

  private static String url(int length) {
    String prefix = "https://a.example/";
    return prefix + "p".repeat(length - prefix.length());
  }

  private static ObjectNode webhooks(ObjectNode m) {
    return m.withObject("/capabilities/webhooks");
  }

  private static ObjectNode content(ObjectNode m) {
    return (ObjectNode) webhooks(m).get("ms.MessagingEventNotification.ContentEvent");
  }

  private static ObjectNode engagement(ObjectNode m) {
    return m.withObject("/capabilities/engagement");
  }

  private static void header(ObjectNode m, String name, String value) {
    content(m).putArray("headers").addObject().put("header_name", name).put("header_value", value);
  }

  private static void headers(ObjectNode m, int count) {
    ArrayNode headers = content(m).putArray("headers");
    for (int i = 0; i < count; i++) {
      headers.addObject().put("header_name", "X-H" + i).put("header_value", "v");
    }
  }

  /** Arrays nested {@code levels} deep: {@code [[...]]}. */
  private static ArrayNode nested(int levels) {
    ArrayNode outer = Manifests.MAPPER.createArrayNode();
    ArrayNode inner = outer;
    for (int i = 1; i < levels; i++) {
      inner = inner.addArray();
    }
    return outer;
  }

  private static Arguments row(String name, Consumer<ObjectNode> change, String path) {
    return Arguments.of(name, change, path);
  }
}
