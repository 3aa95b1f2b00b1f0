package dev.webhooks.dispatcher.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateManifestCommandTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  @TempDir Path dir;

  @Test
  void acceptsTheSpecExampleAndTheRepositorysExample() throws IOException {
    Path spec = dir.resolve("spec.json");
    try (InputStream in = getClass().getResourceAsStream("/dev/webhooks/dispatcher/install/spec-example.json")) {
      Files.copy(in, spec);
    }
    assertThat(run("validate-manifest", spec.toString())).hasValue(0);
    assertThat(run("validate-manifest", "examples/manifest.json")).hasValue(0);
    assertThat(text(out)).startsWith("OK: ");
    assertThat(text(err)).isEmpty();
  }

  @Test
  void printsEveryViolationWithItsPathAndExits1() throws IOException {
    Path file = write("""
        {"client_name": "", "scope": "admin", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "http://a.example", "max_retries": "3"}}}}
        """);
    assertThat(run("validate-manifest", file.toString())).hasValue(1);
    assertThat(text(out)).contains("4 problem(s)")
        .contains("  client_name: must be 1 to 128 characters long, was 0")
        .contains("  scope: 'admin' is not a supported scope")
        .contains("  capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].endpoint: must start with "
            + "https://")
        .contains("  capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].max_retries: ");
  }

  @Test
  void reportsADocumentThatIsNotJsonOrAFileThatIsMissing() throws IOException {
    assertThat(run("validate-manifest", write("{\"client_name\": \"a\", \"client_name\": \"b\"}").toString()))
        .hasValue(1);
    assertThat(text(out)).contains("  $: is not valid JSON at line 1, column 35: Duplicate field 'client_name'"
        + System.lineSeparator());
    assertThat(run("validate-manifest", write("{\"client_name\": \"a\"}{\"client_name\": \"b\"}").toString()))
        .hasValue(1);
    assertThat(run("validate-manifest", write("{\"client_name\": \"a\"} garbage").toString())).hasValue(1);
    assertThat(text(out))
        .contains("  $: is not valid JSON at line 1, column 21: more follows the manifest's JSON value; send one JSON"
            + " object" + System.lineSeparator())
        .contains("  $: is not valid JSON at line 1, column 22: Unrecognized token 'garbage': was expecting (JSON"
            + " String, Number, Array, Object or token 'null', 'true' or 'false')" + System.lineSeparator());
    assertThat(run("validate-manifest", write("").toString())).hasValue(1);
    assertThat(run("validate-manifest", dir.resolve("nope.json").toString())).hasValue(1);
    assertThat(text(err)).contains("nope.json: no such file");
  }

  @Test
  void needsExactlyOneFile() {
    assertThat(run("validate-manifest")).hasValue(Commands.USAGE_ERROR);
    assertThat(run("validate-manifest", "a.json", "b.json")).hasValue(Commands.USAGE_ERROR);
    assertThat(text(err)).contains("Usage: java -jar webhook-dispatcher.jar validate-manifest FILE");
    assertThat(run("--help")).hasValue(0);
    assertThat(text(out)).contains("validate-manifest FILE");
  }

  private Path write(String json) throws IOException {
    Path file = Files.createTempFile(dir, "manifest", ".json");
    Files.writeString(file, json);
    return file;
  }

  private OptionalInt run(String... args) {
    return Commands.run(List.of(args), Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static String text(ByteArrayOutputStream stream) {
    return stream.toString(StandardCharsets.UTF_8);
  }
}
