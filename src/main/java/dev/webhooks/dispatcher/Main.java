package dev.webhooks.dispatcher;

import dev.webhooks.dispatcher.cli.Commands;
import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.ConfigException;
import dev.webhooks.dispatcher.config.Credentials;
import dev.webhooks.dispatcher.install.InstallApi;
import dev.webhooks.dispatcher.ops.LogLevels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * The jar's entry point: a tool command ({@code publish}, {@code receive}, ...) or, by default, the service. The
 * service runs until SIGTERM or SIGINT, then drains within {@code SHUTDOWN_GRACE_MS} and exits 0; one that comes while
 * it starts stops what has started and exits 0.
 *
 * <p>Exit codes: 0 after a clean stop, 1 when a part could not start, 2 for a configuration error.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  private static final int START_FAILED = 1;
  private static final int BAD_CONFIG = 2;

  private Main() {}

  public static void main(String[] args) {
    OptionalInt tool = Commands.run(args);
    System.exit(tool.isPresent() ? tool.getAsInt() : serve());
  }

  private static int serve() {
    // Installed before anything starts: a SIGTERM during start-up (a rollout) ends the start cleanly, not the JVM.
    // Signal handlers rather than a shutdown hook: the drain runs while logging still works, and the exit code is 0.
    CompletableFuture<Void> stopRequested = new CompletableFuture<>();
    Signal.handle(new Signal("TERM"), signal -> stopRequested.complete(null));
    Signal.handle(new Signal("INT"), signal -> stopRequested.complete(null));
    Service service;
    try {
      service = Service.start(configure(System.getenv()), stopRequested);
    } catch (Service.StoppedWhileStarting e) {
      LOG.info("Stopped while starting: nothing was consumed yet");
      return 0;
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      return BAD_CONFIG;
    } catch (RuntimeException e) {
      LOG.error("The dispatcher could not start", e);
      System.err.println("The dispatcher could not start: " + e.getMessage());
      return START_FAILED;
    }
    System.out.print(banner(service));
    stopRequested.join();
    service.stop();
    return 0;
  }

  /**
   * The configuration of {@code env}, with the logging settings (which log4j2.xml reads itself) checked with it and
   * applied: every wrong setting is named at once.
   */
  static Config configure(Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    try {
      LogLevels.apply(env);
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    try {
      Config config = Config.fromEnv(env);
      if (problems.isEmpty()) {
        return config;
      }
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    throw new ConfigException(problems);
  }

  /**
   * The admin token as the banner shows it: the one kept in the data directory, for local use with the embedded broker;
   * never one the operator gave in {@code ADMIN_TOKEN}, which would then sit in the service's output for good.
   */
  static String adminToken(Config config, Credentials credentials) {
    if (config.adminToken().isPresent() || !config.embeddedKafka()) {
      return "(from ADMIN_TOKEN)";
    }
    return credentials.adminToken() + (credentials.generatedAdminToken() ? "  (generated; " : "  (") + "kept in "
        + config.dataDir().resolve("admin-token").normalize() + " unless ADMIN_TOKEN is set)";
  }

  /** One screen: where everything is, and how to reach it. */
  static String banner(Service service) {
    Config config = service.config();
    String kafka = service.embeddedKafka()
        .map(broker -> service.bootstrapServers() + "  (embedded, data in " + broker.logDir().normalize() + ")")
        .orElse(service.bootstrapServers());
    String token = adminToken(config, service.credentials());
    String api = "http://localhost:" + service.httpPort() + InstallApi.BASE.replace(":accountId", "{accountId}");
    String management = "http://localhost:" + service.managementPort();
    List<String> retries = config.retryTopics(); // the topics themselves, not the RETRY_TOPIC prefix they share
    return String.join(System.lineSeparator(),
        "",
        "  Webhook dispatcher is running",
        "    Kafka        " + kafka,
        "    Events       " + String.join(", ", config.eventsTopics()) + "  (group " + config.consumerGroup() + ")",
        "    Dead letters " + config.deadLetterTopic(),
        "    Retries      " + retries.get(0) + " .. " + retries.get(retries.size() - 1),
        "    App API      " + api,
        "    Admin token  " + token,
        "    Management   " + management + "/metrics  " + management + "/health/ready",
        "  Stop with Ctrl-C or SIGTERM (drains for up to " + config.shutdownGrace().toMillis() + " ms).",
        "", "");
  }
}
