package dev.webhooks.dispatcher.intake;

import com.fasterxml.jackson.core.ErrorReportConfiguration;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;

/** The one JSON mapper of the intake: strict on input, and faithful on output (field order, exact numbers). */
final class Json {
  /**
   * A parse error quotes no token and no input: its message goes into dead letters' {@code error} and the log, which
   * never carry event content (Jackson would quote up to 256 characters of a bad token).
   */
  private static final ErrorReportConfiguration NO_CONTENT_IN_ERRORS =
      ErrorReportConfiguration.builder().maxErrorTokenLength(0).maxRawContentLength(0).build();
  private static final ObjectMapper MAPPER =
      JsonMapper.builder(JsonFactory.builder().errorReportConfiguration(NO_CONTENT_IN_ERRORS).build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
          .build();

  private Json() {}

  static JsonNode read(byte[] bytes) throws IOException {
    return MAPPER.readTree(bytes);
  }

  /** A streaming parser as strict as {@link #read}, but trailing tokens are for the caller to check (databind did). */
  static JsonParser parser(byte[] bytes) throws IOException {
    return MAPPER.createParser(bytes);
  }

  static byte[] write(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a parsed tree always serializes", e);
    }
  }
}
