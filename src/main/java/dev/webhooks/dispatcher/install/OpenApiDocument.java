package dev.webhooks.dispatcher.install;

import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The API's OpenAPI 3 document, {@code api/openapi.yaml} on the classpath; a test keeps it and the routes in step. */
public final class OpenApiDocument {
  public static final String RESOURCE = "/api/openapi.yaml";

  private OpenApiDocument() {}

  /** Read once, when the API is built (on the starting thread, never an event loop). */
  static Buffer load() {
    try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the jar");
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }
}
