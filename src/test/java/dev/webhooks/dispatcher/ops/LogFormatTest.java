package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.webhooks.dispatcher.config.ConfigException;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.layout.template.json.JsonTemplateLayout;
import org.apache.logging.log4j.message.SimpleMessage;
import org.apache.logging.log4j.util.SortedArrayStringMap;
import org.junit.jupiter.api.Test;

/**
 * {@code LOG_FORMAT=json} renders one JSON object per line with the key-value fields; {@code LOG_LEVELS} parses; mistyped
 * logging settings are refused.
 */
class LogFormatTest {

  @Test
  void aJsonLineCarriesTheFieldsOfTheLineAsFieldsOfItsOwn() throws Exception {
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
    JsonTemplateLayout layout = JsonTemplateLayout.newBuilder()
        .setConfiguration(context.getConfiguration())
        .setEventTemplateUri("classpath:log-format.json")
        .build();
    SortedArrayStringMap fields = new SortedArrayStringMap();
    fields.putValue("account", "acc1");
    fields.putValue("status", "503");
    Log4jLogEvent event = Log4jLogEvent.newBuilder()
        .setLoggerName(DeliveryLog.class.getName())
        .setLevel(Level.WARN)
        .setMessage(new SimpleMessage("dead letter written"))
        .setContextData(fields)
        .setThrown(new IllegalStateException("boom"))
        .build();

    String line = layout.toSerializable(event);

    assertThat(line).endsWith("\n").doesNotContain("\n\n");
    assertThat(line.trim()).doesNotContain("\n");
    JsonNode json = new ObjectMapper().readTree(line);
    assertThat(json.get("level").asText()).isEqualTo("WARN");
    assertThat(json.get("logger").asText()).isEqualTo(DeliveryLog.class.getName());
    assertThat(json.get("message").asText()).isEqualTo("dead letter written");
    assertThat(json.get("fields").get("account").asText()).isEqualTo("acc1");
    assertThat(json.get("fields").get("status").asText()).isEqualTo("503");
    assertThat(json.get("error.type").asText()).isEqualTo(IllegalStateException.class.getName());
    assertThat(json.get("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
  }

  @Test
  void logLevelsAreLoggerEqualsLevelPairs() {
    assertThat(LogLevels.parse("dev.webhooks.dispatcher.delivery=debug, org.apache.kafka=INFO"))
        .containsEntry("dev.webhooks.dispatcher.delivery", Level.DEBUG)
        .containsEntry("org.apache.kafka", Level.INFO)
        .hasSize(2);
    assertThat(LogLevels.parse(null)).isEmpty();
    assertThat(LogLevels.parse(" ")).isEmpty();
  }

  @Test
  void aMalformedLogLevelStopsStartUpNamingTheVariable() {
    assertThatThrownBy(() -> LogLevels.parse("org.apache.kafka=LOUD"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("LOG_LEVELS");
    assertThatThrownBy(() -> LogLevels.parse("DEBUG"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("LOG_LEVELS");
    assertThatThrownBy(() -> LogLevels.parse("org.apache.kafka="))
        .isInstanceOf(ConfigException.class).hasMessageContaining("LOG_LEVELS: 'org.apache.kafka=' is not logger=LEVEL");
  }

  @Test
  void appliedLevelsTakeEffect() {
    String logger = "dev.webhooks.dispatcher.ops.test-only-" + System.nanoTime();
    LogLevels.apply(Map.of("LOG_LEVELS", logger + "=TRACE", "LOG_LEVEL", "debug", "LOG_FORMAT", "json"));
    assertThat(LogManager.getLogger(logger).isTraceEnabled()).isTrue();
  }

  /** log4j2.xml would take these quietly: the text format for JSON, a default level for a word it does not know. */
  @Test
  void aMistypedLogLevelOrFormatStopsStartUpNamingEachVariableAndAppliesNothing() {
    String logger = "dev.webhooks.dispatcher.ops.test-only-" + System.nanoTime();
    assertThatThrownBy(() -> LogLevels.apply(Map.of("LOG_LEVEL", "verbose", "LOG_FORMAT", "JSON",
        "LOG_LEVELS", logger + "=TRACE,kafka")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("LOG_LEVEL must be one of OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE, ALL, was 'verbose'")
        .hasMessageContaining("LOG_FORMAT must be text or json (lower case), was 'JSON'")
        .hasMessageContaining("LOG_LEVELS: 'kafka' is not logger=LEVEL");
    assertThat(LogManager.getLogger(logger).isTraceEnabled()).isFalse();
  }
}
