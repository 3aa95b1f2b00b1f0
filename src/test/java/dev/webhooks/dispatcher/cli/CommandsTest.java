package dev.webhooks.dispatcher.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class CommandsTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @Test
  void noArgumentsOrServeMeanStartTheService() {
    assertThat(run()).isEmpty();
    assertThat(run("serve")).isEmpty();
  }

  @Test
  void helpListsEveryCommand() {
    assertThat(run("--help")).hasValue(0);
    assertThat(text(out)).contains("serve").contains("publish --account").contains("receive [--port 9443]");
  }

  @Test
  void helpGivesTheReadmeQuickStartInItsOrderWithItsEnvironment() {
    assertThat(run("help")).hasValue(0);
    String n = System.lineSeparator();
    assertThat(text(out)).endsWith(String.join(n,
        "Try it locally (the README's quick start, from the repository root, in four terminals):",
        "  1. java -jar target/webhook-dispatcher.jar receive --port 9443 --cert-out receiver-cert.pem",
        "  2. DELIVERY_TRUSTED_CA_PEM=receiver-cert.pem DELIVERY_ALLOW_PRIVATE_NETWORKS=true \\",
        "       java -jar target/webhook-dispatcher.jar",
        "  3. curl -s -H \"Authorization: Bearer $(cat data/admin-token)\" -H 'Content-Type: application/json' \\",
        "       --data-binary @examples/manifest.json \\",
        "       'http://localhost:8080/api/account/123/configuration/app-install/installations?v=1.0'",
        "     To verify signatures, restart step 1 with --secret <client_secret> from that answer.",
        "  4. java -jar target/webhook-dispatcher.jar publish --account 123 examples/content-event.json") + n);
  }

  @Test
  void helpsQuickStartStepsAreTheReadmesInTheSameOrder() throws IOException {
    String readme = Files.readString(Path.of("README.md")).replaceAll("\\\\\\s+", "");
    List<String> steps = List.of(
        "receive --port 9443 --cert-out receiver-cert.pem",
        "DELIVERY_TRUSTED_CA_PEM=receiver-cert.pem DELIVERY_ALLOW_PRIVATE_NETWORKS=true java -jar",
        "--data-binary @examples/manifest.json 'http://localhost:8080/api/account/123/configuration/app-install/",
        "--secret <client_secret>",
        "publish --account 123 examples/content-event.json");
    run("help");
    String help = text(out).replaceAll("\\\\\\s+", "");
    int inReadme = -1;
    int inHelp = -1;
    for (String step : steps) {
      assertThat(readme.indexOf(step, inReadme + 1)).as("README, after the previous step: " + step).isGreaterThan(inReadme);
      assertThat(help.indexOf(step, inHelp + 1)).as("help, after the previous step: " + step).isGreaterThan(inHelp);
      inReadme = readme.indexOf(step, inReadme + 1);
      inHelp = help.indexOf(step, inHelp + 1);
    }
  }

  @Test
  void unknownCommandsAndBadOptionsAreUsageErrors() {
    assertThat(run("deliver")).hasValue(Commands.USAGE_ERROR);
    assertThat(text(err)).contains("unknown command 'deliver'");

    assertThat(run("publish", "--account")).hasValue(Commands.USAGE_ERROR);
    assertThat(text(err)).contains("publish: option --account needs a value").contains("Usage:");

    assertThat(run("receive", "--status", "abc")).hasValue(Commands.USAGE_ERROR);
    assertThat(run("serve", "--port", "1")).hasValue(Commands.USAGE_ERROR);
  }

  @Test
  void publishRefusesTheKafkaClientSettingsTheServiceWouldRefuse() {
    Map<String, String> env = Map.of("KAFKA_BOOTSTRAP_SERVERS", "localhost:1", "KAFKA_CLIENT_ACKS", "0");
    assertThat(run(env, "publish", "--account", "1", "examples/content-event.json")).hasValue(Commands.USAGE_ERROR);
    assertThat(text(err)).contains("KAFKA_CLIENT_ACKS: acks is set by the service itself");
  }

  @Test
  void publishRefusesAMaxEventBytesTheServiceWouldRefuse() {
    Map<String, String> env = Map.of("KAFKA_BOOTSTRAP_SERVERS", "localhost:1", "MAX_EVENT_BYTES", "big");
    assertThat(run(env, "publish", "--account", "1", "examples/content-event.json")).hasValue(Commands.USAGE_ERROR);
    assertThat(text(err)).isEqualTo("Invalid configuration:\n  MAX_EVENT_BYTES must be a whole number, was 'big'"
        + System.lineSeparator());
  }

  @Test
  void commandHelpPrintsItsUsage() {
    assertThat(run("publish", "--help")).hasValue(0);
    assertThat(text(out)).contains("publish --account ACCOUNT_ID");
  }

  private OptionalInt run(String... args) {
    return run(Map.of(), args);
  }

  private OptionalInt run(Map<String, String> env, String... args) {
    return Commands.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static String text(ByteArrayOutputStream stream) {
    return stream.toString(StandardCharsets.UTF_8);
  }
}
