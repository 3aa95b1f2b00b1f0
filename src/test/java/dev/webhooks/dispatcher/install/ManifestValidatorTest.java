package dev.webhooks.dispatcher.install;

import static dev.webhooks.dispatcher.install.Manifests.MAPPER;
import static dev.webhooks.dispatcher.install.Manifests.specExample;
import static dev.webhooks.dispatcher.install.Manifests.webhook;
import static dev.webhooks.dispatcher.install.Manifests.withWebhook;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ManifestValidatorTest {
  private static final String CONTENT = WebhookKeys.CONTENT;
  private static final String ENDPOINT = "capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].endpoint";
  private static final String RETRIES = "capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].max_retries";
  private static final String HEADER0 = "capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].headers[0]";

  private final ManifestValidator validator = new ManifestValidator();

  @Test
  void acceptsTheSpecExampleUnchanged() {
    assertThat(validator.validate(specExample())).isEmpty();
  }

  @Test
  void acceptsTheAliasOfTheConversationKeyAndStoresItCanonical() {
    ObjectNode manifest = withWebhook(WebhookKeys.CONVERSATION_CHANGE_ALIAS, "https://example.com/h");
    assertThat(validator.validate(manifest)).isEmpty();
    assertThat(Manifest.webhooks(Manifest.canonical(manifest))).containsOnlyKeys(WebhookKeys.CONVERSATION_CHANGE);
  }

  @Test
  void keepsUnknownTopLevelFields() {
    ObjectNode manifest = withWebhook(CONTENT, "https://example.com/h").put("future_field", 7);
    assertThat(validator.validate(manifest)).isEmpty();
    assertThat(Manifest.canonical(manifest).get("future_field").asInt()).isEqualTo(7);
  }

  @Test
  void reportsEveryViolationAtOnce() {
    ObjectNode manifest = withWebhook(CONTENT, "http://example.com/h");
    manifest.remove("client_name");
    webhook(manifest, CONTENT).put("max_retries", 9);
    assertThat(validator.validate(manifest))
        .extracting(Violation::path)
        .containsExactlyInAnyOrder("client_name", ENDPOINT, RETRIES);
  }

  static Stream<Arguments> violations() {
    return Stream.of(
        row("missing client_name", m -> m.remove("client_name"), "client_name", "is required"),
        row("empty client_name", m -> m.put("client_name", ""), "client_name", "1 to 128"),
        row("long client_name", m -> m.put("client_name", "x".repeat(129)), "client_name", "1 to 128"),
        row("numeric client_name", m -> m.put("client_name", 5), "client_name", "string"),
        row("bad language tag", m -> m.put("client_name#ja_JP!", "x"), "client_name#ja_JP!", "RFC 5646"),
        row("enabled as string", m -> m.put("enabled", "false"), "enabled", "true or false"),
        row("http endpoint", m -> webhook(m, CONTENT).put("endpoint", "http://example.com"), ENDPOINT,
            "must start with https://"),
        row("endpoint without host", m -> webhook(m, CONTENT).put("endpoint", "https:///path"), ENDPOINT,
            "absolute URL"),
        row("endpoint with spaces", m -> webhook(m, CONTENT).put("endpoint", "https://a b/"), ENDPOINT, "absolute URL"),
        row("missing endpoint", m -> webhook(m, CONTENT).remove("endpoint"), ENDPOINT, "is required"),
        row("max_retries -1", m -> webhook(m, CONTENT).put("max_retries", -1), RETRIES, "0 to 5"),
        row("max_retries 6", m -> webhook(m, CONTENT).put("max_retries", 6), RETRIES, "0 to 5"),
        row("max_retries as string", m -> webhook(m, CONTENT).put("max_retries", "3"), RETRIES, "not a string"),
        row("max_retries as decimal", m -> webhook(m, CONTENT).put("max_retries", 3.0), RETRIES, "0 to 5"),
        row("unknown webhook key", m -> m.withObject("/capabilities/webhooks").putObject("ms.Nope")
            .put("endpoint", "https://example.com"), "capabilities.webhooks['ms.Nope']", "known keys"),
        row("webhook not an object", m -> m.withObject("/capabilities/webhooks").put(CONTENT, "https://x"),
            "capabilities.webhooks['ms.MessagingEventNotification.ContentEvent']", "must be an object"),
        row("headers not an array", m -> webhook(m, CONTENT).put("headers", "x"),
            "capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].headers", "array"),
        row("header value with CRLF", m -> header(m, "X-Team", "a\r\nInjected: 1"), HEADER0 + ".header_value",
            "CR, LF or NUL"),
        row("header name with LF", m -> header(m, "X-A\nB", "v"), HEADER0 + ".header_name", "CR, LF or NUL"),
        row("header value with NUL", m -> header(m, "X-Team", "a\0b"), HEADER0 + ".header_value", "CR, LF or NUL"),
        row("reserved content-type", m -> header(m, "Content-Type", "text/plain"), HEADER0 + ".header_name",
            "set by the dispatcher"),
        row("reserved host", m -> header(m, "host", "evil"), HEADER0 + ".header_name", "set by the dispatcher"),
        row("reserved liveperson", m -> header(m, "X-LivePerson-Signature", "x"), HEADER0 + ".header_name",
            "set by the dispatcher"),
        row("reserved webhook", m -> header(m, "webhook-id", "x"), HEADER0 + ".header_name", "set by the dispatcher"),
        row("header value not string", m -> header(m, "X-Team", null), HEADER0 + ".header_value", "is required"),
        row("body not an object", null, "$", "JSON object"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("violations")
  void reportsTheViolationAtItsPath(String name, Consumer<ObjectNode> change, String path, String message) {
    ObjectNode manifest = withWebhook(CONTENT, "https://example.com/hooks?x=1");
    List<Violation> found =
        change == null ? validator.validate(MAPPER.createArrayNode()) : validate(manifest, change);
    assertThat(found).hasSize(1);
    assertThat(found.get(0).path()).isEqualTo(path);
    assertThat(found.get(0).message()).contains(message);
  }

  @Test
  void defaultsMaxRetriesToZero() {
    Webhook webhook = Manifest.webhooks(withWebhook(CONTENT, "https://example.com/h")).get(CONTENT);
    assertThat(webhook.maxRetries()).isZero();
    assertThat(webhook.headers()).isEmpty();
  }

  private List<Violation> validate(ObjectNode manifest, Consumer<ObjectNode> change) {
    change.accept(manifest);
    return validator.validate(manifest);
  }

  private static void header(ObjectNode manifest, String name, String value) {
    ObjectNode header = webhook(manifest, CONTENT).putArray("headers").addObject().put("header_name", name);
    if (value != null) {
      header.put("header_value", value);
    }
  }

  private static Arguments row(String name, Consumer<ObjectNode> change, String path, String message) {
    return Arguments.of(name, change, path, message);
  }
}
