package dev.webhooks.dispatcher.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
