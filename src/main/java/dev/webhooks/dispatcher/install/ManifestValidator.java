package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.delivery.Endpoint;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IllformedLocaleException;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a manifest against the spec as DESIGN 1.5 settles it, reporting every violation at once with its path. Pure:
 * no I/O (the endpoint's address is checked separately by an {@link EndpointCheck}).
 */
public final class ManifestValidator {
  static final String ROOT = "$";
  /**
   * How deep objects and arrays may nest, the manifest itself being level 1: the spec's own go 6 deep, and any
   * unknown field is kept well within Jackson's limit of 1000, which the stored record, one level deeper, must meet.
   */
  static final int MAX_DEPTH = 32;
  private static final int NAME_MAX = 128;
  private static final int DESCRIPTION_MAX = 256;
  /** Longer URLs are not sent by real receivers' configuration and would bloat every dead letter header. */
  private static final int ENDPOINT_MAX = 2048;
  private static final int MAX_RETRIES = 5;
  private static final int HEADERS_MAX = 20;
  private static final int HEADER_NAME_MAX = 256;
  private static final int HEADER_VALUE_MAX = 4096;
  private static final int RETENTION_MIN_SECONDS = 2;
  private static final int RETENTION_MAX_SECONDS = 259_200;
  /** A field name a path shows as {@code .name}; others are shown as {@code ['name']}. */
  private static final Pattern PLAIN_FIELD = Pattern.compile("[A-Za-z0-9_#-]+");
  /** RFC 7230 token characters. */
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  /** Visible ASCII, space and tab (RFC 7230 field-value without obsolete folding). */
  private static final Pattern FIELD_VALUE = Pattern.compile("[\\x20-\\x7E\\t]*");
  /** Headers the dispatcher sets itself, or that would change how the request is framed or routed. */
  private static final Set<String> RESERVED_HEADERS =
      Set.of(
          "content-type", "content-length", "content-encoding", "host", "transfer-encoding", "connection",
          "keep-alive", "te", "trailer", "upgrade", "expect", "proxy-authorization", "proxy-connection");
  private static final Set<String> CAPABILITIES = Set.of("webhooks", "engagement");
  private static final List<String> RESERVED_PREFIXES = List.of("x-liveperson-", "webhook-");

  /**
   * Every violation of a manifest file as the API would report it, with no I/O: not JSON, the manifest's rules, and
   * imported credentials. (The endpoint and logo checks need the network and are left to the API.)
   */
  public List<Violation> validateDocument(byte[] json) {
    JsonNode manifest;
    try {
      manifest = ManifestBodies.MAPPER.readTree(json);
    } catch (java.io.IOException e) {
      return List.of(ManifestBodies.notJson(e));
    }
    if (manifest == null || manifest.isMissingNode()) {
      return List.of(new Violation(ROOT, "the document is empty; it must be the app manifest"));
    }
    List<Violation> out = new ArrayList<>(validate(manifest));
    if (manifest.isObject()) {
      out.addAll(Credentials.violations(manifest));
    }
    return out;
  }

  /** Every violation of the manifest; empty when it may be installed. */
  public List<Violation> validate(JsonNode manifest) {
    List<Violation> out = new ArrayList<>();
    if (manifest == null || !manifest.isObject()) {
      out.add(new Violation(ROOT, "the body must be a JSON object (the app manifest)"));
      return out;
    }
    nesting(ROOT, manifest, 1, out);
    clientNames(manifest, out);
    optionalString(manifest, "description", DESCRIPTION_MAX, out);
    JsonNode enabled = manifest.get("enabled");
    if (enabled != null && !enabled.isBoolean()) {
      out.add(new Violation("enabled", "must be true or false"));
    }
    ClientFieldRules.validate(manifest, out);
    capabilities(manifest.get("capabilities"), out);
    return out;
  }

  /** Each object or array deeper than {@link #MAX_DEPTH}, at its path; what is inside it is not looked at. */
  private static void nesting(String path, JsonNode node, int depth, List<Violation> out) {
    if (!node.isContainerNode()) {
      return;
    }
    if (depth > MAX_DEPTH) {
      out.add(new Violation(path, "is nested too deeply: objects and arrays may nest at most " + MAX_DEPTH
          + " levels, counting the manifest as one"));
      return;
    }
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        nesting(path + "[" + i + "]", node.get(i), depth + 1, out);
      }
    } else {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        nesting(fieldPath(path, field.getKey()), field.getValue(), depth + 1, out);
      }
    }
  }

  /** {@code parent.field}, or {@code parent['field']} when the name is not a plain word (a webhook key has dots). */
  private static String fieldPath(String parent, String field) {
    String prefix = parent.equals(ROOT) ? "" : parent;
    if (PLAIN_FIELD.matcher(field).matches() && !parent.equals("capabilities.webhooks")) {
      return prefix.isEmpty() ? field : prefix + "." + field;
    }
    return prefix + "['" + field.replace("\\", "\\\\").replace("'", "\\'") + "']";
  }

  private static void clientNames(JsonNode manifest, List<Violation> out) {
    if (!manifest.has("client_name")) {
      out.add(new Violation("client_name", "is required"));
    }
    for (Iterator<String> it = manifest.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (field.equals("client_name")) {
        lengthChecked(field, manifest.get(field), 1, NAME_MAX, out);
      } else if (field.startsWith("client_name#")) {
        if (!wellFormedTag(field.substring("client_name#".length()))) {
          out.add(new Violation(field, "the part after # must be an RFC 5646 language tag such as ja-JP"));
        }
        lengthChecked(field, manifest.get(field), 1, NAME_MAX, out);
      }
    }
  }

  /**
   * RFC 5646 well-formedness (its grammar: private use such as x-pirate, grandfathered tags, no empty or lone
   * singleton such as en-a), as {@link Locale.Builder#setLanguageTag} checks it; that it is registered is not asked.
   */
  private static boolean wellFormedTag(String tag) {
    try {
      new Locale.Builder().setLanguageTag(tag);
      return !tag.isEmpty(); // an empty tag would just clear the builder
    } catch (IllformedLocaleException e) {
      return false;
    }
  }

  private static void optionalString(JsonNode parent, String field, int max, List<Violation> out) {
    JsonNode value = parent.get(field);
    if (value != null) {
      lengthChecked(field, value, 0, max, out);
    }
  }

  static void lengthChecked(String path, JsonNode value, int min, int max, List<Violation> out) {
    if (!value.isTextual()) {
      out.add(new Violation(path, "must be a string"));
      return;
    }
    int length = value.textValue().codePointCount(0, value.textValue().length());
    if (length < min || length > max) {
      out.add(new Violation(path, "must be " + min + " to " + max + " characters long, was " + length));
    }
  }

  private static void capabilities(JsonNode capabilities, List<Violation> out) {
    if (capabilities == null) {
      return;
    }
    if (!capabilities.isObject()) {
      out.add(new Violation("capabilities", "must be an object"));
      return;
    }
    for (Iterator<String> it = capabilities.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!CAPABILITIES.contains(key)) {
        out.add(new Violation("capabilities." + key, "is not a capability; supported: webhooks, engagement"));
      }
    }
    JsonNode engagement = capabilities.get("engagement");
    if (engagement != null) {
      EngagementRules.validate(engagement, out);
    }
    JsonNode webhooks = capabilities.get("webhooks");
    if (webhooks == null) {
      return;
    }
    if (!webhooks.isObject()) {
      out.add(new Violation("capabilities.webhooks", "must be an object keyed by webhook key"));
      return;
    }
    Map<String, String> seen = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = webhooks.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      String key = entry.getKey();
      String path = webhookPath(key);
      if (key.equals(Manifest.RETRY_KEY)) {
        retry(path, entry.getValue(), out);
        continue;
      }
      Optional<String> canonical = WebhookKeys.canonical(key);
      if (canonical.isEmpty()) {
        out.add(new Violation(path, "is not a webhook key this service delivers; known keys: "
            + String.join(", ", WebhookKeys.ALL)));
        continue;
      }
      String earlier = seen.putIfAbsent(canonical.get(), key);
      if (earlier != null) {
        out.add(new Violation(path, "names the same webhook as '" + earlier + "'; give it once"));
      }
      webhook(path, entry.getValue(), out);
    }
  }

  /** The documented path form of a webhook: {@code capabilities.webhooks['<key>']}. */
  static String webhookPath(String key) {
    return fieldPath("capabilities.webhooks", key);
  }

  private static void retry(String path, JsonNode retry, List<Violation> out) {
    if (!retry.isObject()) {
      out.add(new Violation(path, "must be an object"));
      return;
    }
    JsonNode retention = retry.get("retention_time");
    if (retention != null && !integerIn(retention, RETENTION_MIN_SECONDS, RETENTION_MAX_SECONDS)) {
      out.add(new Violation(path + ".retention_time",
          "must be a whole number of seconds from " + RETENTION_MIN_SECONDS + " to " + RETENTION_MAX_SECONDS));
    }
  }

  private static void webhook(String path, JsonNode webhook, List<Violation> out) {
    if (!webhook.isObject()) {
      out.add(new Violation(path, "must be an object with an endpoint"));
      return;
    }
    endpoint(path + ".endpoint", webhook.get("endpoint"), out);
    JsonNode retries = webhook.get("max_retries");
    if (retries != null && !integerIn(retries, 0, MAX_RETRIES)) {
      out.add(new Violation(path + ".max_retries", "must be a whole number from 0 to " + MAX_RETRIES
          + (retries.isTextual() ? ", not a string" : "")));
    }
    JsonNode headers = webhook.get("headers");
    if (headers != null) {
      headers(path + ".headers", headers, out);
    }
  }

  private static void endpoint(String path, JsonNode endpoint, List<Violation> out) {
    if (endpoint == null) {
      out.add(new Violation(path, "is required"));
    } else if (!endpoint.isTextual()) {
      out.add(new Violation(path, "must be a string"));
    } else if (!endpoint.textValue().startsWith("https://")) {
      out.add(new Violation(path, "must start with https://"));
    } else if (endpoint.textValue().length() > ENDPOINT_MAX) {
      out.add(new Violation(path, "must be at most " + ENDPOINT_MAX + " characters long"));
    } else if (!absoluteWithHost(endpoint.textValue())) {
      out.add(new Violation(path, "must be an absolute URL with a host name, such as https://example.com/hooks"));
    } else if (!portInRange(endpoint.textValue())) {
      out.add(new Violation(path, "must have a port from 1 to " + Endpoint.PORT_MAX + ", or none for 443"));
    }
  }

  private static boolean absoluteWithHost(String url) {
    try {
      URI uri = new URI(url);
      return uri.isAbsolute() && uri.getHost() != null && !uri.getHost().isEmpty();
    } catch (URISyntaxException e) {
      return false;
    }
  }

  /** java.net.URI takes any number of digits as a port; no connection can be made to one outside 1..65535. */
  private static boolean portInRange(String url) {
    try {
      int port = new URI(url).getPort();
      return port == -1 || Endpoint.isTcpPort(port);
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static void headers(String path, JsonNode headers, List<Violation> out) {
    if (!headers.isArray()) {
      out.add(new Violation(path, "must be an array of {header_name, header_value}"));
      return;
    }
    if (headers.size() > HEADERS_MAX) {
      out.add(new Violation(path, "must hold at most " + HEADERS_MAX + " headers, has " + headers.size()));
    }
    for (int i = 0; i < headers.size(); i++) {
      String at = path + "[" + i + "]";
      JsonNode header = headers.get(i);
      if (!header.isObject()) {
        out.add(new Violation(at, "must be an object with header_name and header_value"));
        continue;
      }
      headerName(at + ".header_name", header.get("header_name"), out);
      headerValue(at + ".header_value", header.get("header_value"), out);
    }
  }

  private static void headerName(String path, JsonNode name, List<Violation> out) {
    if (name == null || !name.isTextual()) {
      out.add(new Violation(path, name == null ? "is required" : "must be a string"));
      return;
    }
    String text = name.textValue();
    String lower = text.toLowerCase(Locale.ROOT);
    if (hasControl(text)) {
      out.add(new Violation(path, "must not contain CR, LF or NUL"));
    } else if (text.isEmpty() || text.length() > HEADER_NAME_MAX || !TOKEN.matcher(text).matches()) {
      out.add(new Violation(path, "must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-), 1 to "
          + HEADER_NAME_MAX + " characters"));
    } else if (RESERVED_HEADERS.contains(lower) || RESERVED_PREFIXES.stream().anyMatch(lower::startsWith)) {
      out.add(new Violation(path, "'" + text + "' is set by the dispatcher and cannot be configured"));
    }
  }

  private static void headerValue(String path, JsonNode value, List<Violation> out) {
    if (value == null || !value.isTextual()) {
      out.add(new Violation(path, value == null ? "is required" : "must be a string"));
      return;
    }
    String text = value.textValue();
    if (hasControl(text)) {
      out.add(new Violation(path, "must not contain CR, LF or NUL"));
    } else if (text.length() > HEADER_VALUE_MAX || !FIELD_VALUE.matcher(text).matches()) {
      out.add(new Violation(path, "must be visible ASCII, spaces or tabs, at most " + HEADER_VALUE_MAX
          + " characters"));
    }
  }

  private static boolean hasControl(String text) {
    return text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0 || text.indexOf('\0') >= 0;
  }

  /** Strict: a JSON integer (not a string, not 3.0) within the bounds. */
  private static boolean integerIn(JsonNode node, long min, long max) {
    return node.isIntegralNumber() && node.canConvertToLong() && node.longValue() >= min && node.longValue() <= max;
  }
}
