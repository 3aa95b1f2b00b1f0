package dev.webhooks.dispatcher.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * The command line's first word picks what the jar does. {@link #run} returns an exit code for the tool commands
 * ({@code publish}, {@code receive}, {@code validate-manifest}, {@code help}) and an empty result when the service itself should start (no
 * arguments, or {@code serve}).
 */
public final class Commands {
  /** Exit code for a command line that cannot be run as given (the convention of sysexits' EX_USAGE family). */
  public static final int USAGE_ERROR = 2;

  /** One tool command: its name, a one-line summary, its synopsis and what runs it. */
  private record Command(String name, String summary, String usage, Runner runner) {}

  @FunctionalInterface
  private interface Runner {
    int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err);
  }

  /** In help order; a new command (e.g. validate-manifest) is one more entry. */
  private static final List<Command> COMMANDS =
      List.of(
          new Command("publish", "Publish event files to the events topic, as a producer would.",
              PublishCommand.USAGE, Commands::publish),
          new Command("receive", "Run a local HTTPS webhook receiver that prints and verifies every delivery.",
              ReceiveCommand.USAGE, (args, env, out, err) -> ReceiveCommand.run(args, out, err)),
          new Command("validate-manifest", "Check an app manifest file offline: every problem with its path.",
              ValidateManifestCommand.USAGE, (args, env, out, err) -> ValidateManifestCommand.run(args, out, err)));

  /** The README's quick start ("Try it"), in its order: the secret comes from the install, so receive restarts. */
  private static final List<String> QUICK_START =
      List.of(
          "Try it locally (the README's quick start, from the repository root, in four terminals):",
          "  1. java -jar target/webhook-dispatcher.jar receive --port 9443 --cert-out receiver-cert.pem",
          "  2. DELIVERY_TRUSTED_CA_PEM=receiver-cert.pem DELIVERY_ALLOW_PRIVATE_NETWORKS=true \\",
          "       java -jar target/webhook-dispatcher.jar",
          "  3. curl -s -H \"Authorization: Bearer $(cat data/admin-token)\" -H 'Content-Type: application/json' \\",
          "       --data-binary @examples/manifest.json \\",
          "       'http://localhost:8080/api/account/123/configuration/app-install/installations?v=1.0'",
          "     To verify signatures, restart step 1 with --secret <client_secret> from that answer.",
          "  4. java -jar target/webhook-dispatcher.jar publish --account 123 examples/content-event.json");

  private Commands() {}

  /** The process's own arguments, environment and standard streams. */
  public static OptionalInt run(String[] args) {
    return run(Arrays.asList(args), System.getenv(), System.out, System.err);
  }

  /** Runs the command {@code args} name; empty means "serve": the caller starts the dispatcher. */
  public static OptionalInt run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    if (args.isEmpty() || (args.size() == 1 && args.get(0).equals("serve"))) {
      return OptionalInt.empty();
    }
    String name = args.get(0);
    List<String> rest = args.subList(1, args.size());
    if (List.of("help", "--help", "-h").contains(name)) {
      out.print(help());
      return OptionalInt.of(0);
    }
    if (name.equals("serve")) {
      err.println("serve takes no arguments: it is configured by environment variables (see README).");
      return OptionalInt.of(USAGE_ERROR);
    }
    for (Command command : COMMANDS) {
      if (command.name().equals(name)) {
        return OptionalInt.of(runOne(command, rest, env, out, err));
      }
    }
    err.println("unknown command '" + name + "'");
    err.print(help());
    return OptionalInt.of(USAGE_ERROR);
  }

  /** The text {@code --help} prints. */
  public static String help() {
    String n = System.lineSeparator();
    StringBuilder b = new StringBuilder();
    b.append("Usage: java -jar webhook-dispatcher.jar [COMMAND] [OPTIONS]").append(n).append(n);
    b.append("Commands:").append(n);
    b.append(String.format("  %-17s %s%n", "serve",
        "Run the dispatcher (the default without a command); configured by environment variables."));
    for (Command command : COMMANDS) {
      b.append(String.format("  %-17s %s%n  %-17s   %s%n", command.name(), command.summary(), "", command.usage()));
    }
    b.append(String.format("  %-17s %s%n", "help", "Show this text (also --help, -h; COMMAND --help for one command)."));
    b.append(n);
    for (String line : QUICK_START) {
      b.append(line).append(n);
    }
    return b.toString();
  }

  private static int runOne(Command command, List<String> args, Map<String, String> env, PrintStream out,
      PrintStream err) {
    if (args.contains("--help") || args.contains("-h")) {
      out.println("Usage: java -jar webhook-dispatcher.jar " + command.usage());
      out.println(command.summary());
      return 0;
    }
    try {
      return command.runner().run(args, env, out, err);
    } catch (UsageException e) {
      err.println(command.name() + ": " + e.getMessage());
      err.println("Usage: java -jar webhook-dispatcher.jar " + command.usage());
      return USAGE_ERROR;
    }
  }

  /** The Kafka clients log every failed connection attempt; on a terminal our one-line error says it better. */
  private static int publish(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    Configurator.setLevel("org.apache.kafka", Level.ERROR);
    return PublishCommand.run(args, env, out, err);
  }
}
