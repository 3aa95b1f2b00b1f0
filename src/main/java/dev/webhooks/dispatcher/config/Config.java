package dev.webhooks.dispatcher.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every setting of the service, read once from the environment and validated as a whole. Each field names its
 * environment variable; {@link #fromEnv} reports every bad value at once, naming the variable.
 */
public record Config(
    Optional<String> kafkaBootstrapServers,
    Map<String, String> kafkaClientSettings,
    List<String> eventsTopics,
    String consumerGroup,
    String deadLetterTopic,
    String retryTopic,
    String installationsTopic,
    int maxEventBytes,
    int httpPort,
    int managementPort,
    Duration httpIdleTimeout,
    Duration httpRequestTimeout,
    Optional<String> adminToken,
    Optional<String> secretsKey,
    Path dataDir,
    int embeddedKafkaPort,
    int topicPartitions,
    Optional<Short> topicReplicationFactor,
    Duration connectTimeout,
    Duration responseTimeout,
    Optional<Path> trustedCaPem,
    boolean allowPrivateNetworks,
    int maxConnectionsPerEndpoint,
    boolean nativeTls,
    Duration retryBaseDelay,
    double retryMultiplier,
    Duration retryMaxDelay,
    int maxInFlightPerPartition,
    Duration shutdownGrace,
    Duration secretRotationGrace,
    Duration warmUp) {

  /**
   * Retries wait in one topic per retry number: {@code max_retries} is at most 5 (the manifest's maximum), so tiers 1
   * to 5. Records of one tier wait about as long, so each tier's partitions come due in the order they were written.
   */
  public static final int RETRY_TIERS = 5;

  /** The retry topics, {@code RETRY_TOPIC-1} to {@code RETRY_TOPIC-5}, tier 1 first. */
  public List<String> retryTopics() {
    return java.util.stream.IntStream.rangeClosed(1, RETRY_TIERS).mapToObj(tier -> retryTopic + "-" + tier).toList();
  }

  /** Kafka's default limit on a record: the producer's {@code max.request.size}, about a topic's {@code max.message.bytes}. */
  public static final int KAFKA_DEFAULT_RECORD_BYTES = 1024 * 1024;
  /** Room for a retry's or a dead letter's headers (ids, endpoint, error line) beside its body. */
  private static final int RECORD_HEADERS_BYTES = 64 * 1024;

  /**
   * The largest record the service writes as a retry or dead letter: a body of up to {@code MAX_EVENT_BYTES} with its
   * headers, and never less than Kafka's default. Its producer and the topics it creates take records this large.
   */
  public int maxRecordBytes() {
    return Math.max(KAFKA_DEFAULT_RECORD_BYTES, maxEventBytes + RECORD_HEADERS_BYTES);
  }

  /** Whether the service runs its own single-node broker: the default, when no bootstrap servers are given. */
  public boolean embeddedKafka() {
    return kafkaBootstrapServers.isEmpty();
  }

  /** These settings with deliveries trusting {@code trustedCaPem} and, or not, allowed to private networks. */
  public Config withDeliveryTrust(Optional<Path> trustedCaPem, boolean allowPrivateNetworks) {
    return new Config(kafkaBootstrapServers, kafkaClientSettings, eventsTopics, consumerGroup, deadLetterTopic,
        retryTopic, installationsTopic, maxEventBytes, httpPort, managementPort, httpIdleTimeout, httpRequestTimeout,
        adminToken, secretsKey, dataDir, embeddedKafkaPort, topicPartitions, topicReplicationFactor, connectTimeout,
        responseTimeout, trustedCaPem, allowPrivateNetworks,
        maxConnectionsPerEndpoint, nativeTls, retryBaseDelay, retryMultiplier, retryMaxDelay, maxInFlightPerPartition,
        shutdownGrace, secretRotationGrace, warmUp);
  }

  /**
   * Longer than the idle timeout of the proxies usually put in front (60 s: nginx's upstream keep-alive, AWS's load
   * balancer), so that they, not we, close an idle pooled connection, and never send a request on one we are closing.
   */
  private static final int HTTP_IDLE_TIMEOUT_MS = 75_000;
  /**
   * Ample for any client that is not stalling: a head is a few hundred bytes, and the largest body the API takes (64
   * KiB) needs 6.4 KiB/s; short enough that a slow client holds a connection for seconds, not minutes.
   */
  private static final int HTTP_REQUEST_TIMEOUT_MS = 10_000;

  public static Config fromEnv() {
    return fromEnv(System.getenv());
  }

  /**
   * The {@code KAFKA_CLIENT_*} settings of {@code env} alone, checked as {@link #fromEnv} checks them: for the tools that
   * reach Kafka as the service does.
   */
  public static Map<String, String> kafkaClientSettings(Map<String, String> env) {
    Reader r = new Reader(env);
    Map<String, String> settings = r.kafkaClientSettings();
    r.failIfAnyError();
    return settings;
  }

  /** {@code MAX_EVENT_BYTES} of {@code env} alone, checked as {@link #fromEnv} checks it: for the publish tool. */
  public static int maxEventBytes(Map<String, String> env) {
    Reader r = new Reader(env);
    int maxEventBytes = maxEventBytes(r);
    r.failIfAnyError();
    return maxEventBytes;
  }

  private static int maxEventBytes(Reader r) {
    return r.integer("MAX_EVENT_BYTES", 256 * 1024, 1024, 64 * 1024 * 1024);
  }

  public static Config fromEnv(Map<String, String> env) {
    Reader r = new Reader(env);
    Config config =
        new Config(
            r.optional("KAFKA_BOOTSTRAP_SERVERS"),
            r.kafkaClientSettings(),
            r.list("EVENTS_TOPICS", "messaging-events"),
            r.string("CONSUMER_GROUP", "webhook-dispatcher"),
            r.string("DEAD_LETTER_TOPIC", "webhook-dead-letters"),
            r.string("RETRY_TOPIC", "webhook-retries"),
            r.string("INSTALLATIONS_TOPIC", "app-installations"),
            maxEventBytes(r),
            r.integer("HTTP_PORT", 8080, 0, 65535),
            r.integer("MANAGEMENT_PORT", 8081, 0, 65535),
            r.positiveMillis("HTTP_IDLE_TIMEOUT_MS", HTTP_IDLE_TIMEOUT_MS),
            r.positiveMillis("HTTP_REQUEST_TIMEOUT_MS", HTTP_REQUEST_TIMEOUT_MS),
            r.optional("ADMIN_TOKEN"),
            r.optional("SECRETS_KEY"),
            Path.of(r.string("DATA_DIR", "./data")),
            r.integer("EMBEDDED_KAFKA_PORT", 9092, 0, 65535),
            r.integer("TOPIC_PARTITIONS", 6, 1, 10_000),
            replicationFactor(r),
            r.positiveMillis("DELIVERY_CONNECT_TIMEOUT_MS", 5000),
            r.positiveMillis("DELIVERY_RESPONSE_TIMEOUT_MS", 5000),
            r.optional("DELIVERY_TRUSTED_CA_PEM").map(Path::of),
            r.bool("DELIVERY_ALLOW_PRIVATE_NETWORKS", false),
            r.integer("DELIVERY_MAX_CONNECTIONS_PER_ENDPOINT", 32, 1, 10_000),
            r.bool("DELIVERY_NATIVE_TLS", true),
            r.millis("RETRY_BASE_DELAY_MS", 2000),
            r.decimal("RETRY_MULTIPLIER", 2.0, 1.0, 100.0),
            r.millis("RETRY_MAX_DELAY_MS", 60_000),
            r.integer("MAX_IN_FLIGHT_PER_PARTITION", 1000, 1, 1_000_000),
            r.millis("SHUTDOWN_GRACE_MS", 20_000),
            Duration.ofSeconds(r.integer("SECRET_ROTATION_GRACE_S", 86_400, 0, 30 * 86_400)),
            r.millis("WARMUP_MS", 750));
    if (config.httpPort() == config.managementPort() && config.httpPort() != 0) {
      // Vert.x would share the port between both servers and hand each connection to either in turn
      r.error("HTTP_PORT and MANAGEMENT_PORT must differ, both were " + config.httpPort());
    }
    List<String> ownTopics = new ArrayList<>(config.retryTopics());
    ownTopics.add(config.deadLetterTopic());
    ownTopics.add(config.installationsTopic());
    if (new HashSet<>(ownTopics).size() < ownTopics.size()) {
      r.error("DEAD_LETTER_TOPIC (" + config.deadLetterTopic() + "), the retry topics (" + config.retryTopic()
          + "-1 to -" + RETRY_TIERS + ") and INSTALLATIONS_TOPIC (" + config.installationsTopic()
          + ") must be different topics");
    }
    config.eventsTopics().stream().filter(ownTopics::contains).forEach(topic ->
        // read as events, its records would come back as deliveries: dead letters and retries without end
        r.error("EVENTS_TOPICS must not name " + topic + ", a topic the service writes itself (its dead letters,"
            + " retries or installations)"));
    if (config.embeddedKafka() && config.topicReplicationFactor().isPresent()) {
      r.error("TOPIC_REPLICATION_FACTOR needs KAFKA_BOOTSTRAP_SERVERS: the embedded broker is a single node");
    }
    if (config.embeddedKafka() && !config.kafkaClientSettings().isEmpty()) {
      r.error(KafkaConnection.VARIABLE_PREFIX + "* settings need KAFKA_BOOTSTRAP_SERVERS: the embedded broker takes"
          + " plain connections only");
    }
    r.failIfAnyError();
    return config;
  }

  /** {@code TOPIC_REPLICATION_FACTOR}, or empty for the broker's {@code default.replication.factor}. */
  private static Optional<Short> replicationFactor(Reader r) {
    int factor = r.integer("TOPIC_REPLICATION_FACTOR", 0, 1, Short.MAX_VALUE);
    return factor == 0 ? Optional.empty() : Optional.of((short) factor);
  }

  /** Collects every problem before failing, so an operator fixes them all in one go. */
  private static final class Reader {
    private final Map<String, String> env;
    private final List<String> errors = new ArrayList<>();

    Reader(Map<String, String> env) {
      this.env = env;
    }

    Optional<String> optional(String name) {
      return Optional.ofNullable(env.get(name)).map(String::trim).filter(v -> !v.isEmpty());
    }

    String string(String name, String fallback) {
      return optional(name).orElse(fallback);
    }

    List<String> list(String name, String fallback) {
      List<String> items =
          Arrays.stream(string(name, fallback).split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
      if (items.isEmpty()) {
        errors.add(name + " must name at least one topic");
      }
      return items;
    }

    int integer(String name, int fallback, int min, int max) {
      Optional<String> raw = optional(name);
      if (raw.isEmpty()) {
        return fallback;
      }
      try {
        int value = Integer.parseInt(raw.get());
        if (value < min || value > max) {
          errors.add(name + " must be between " + min + " and " + max + ", was " + value);
        }
        return value;
      } catch (NumberFormatException e) {
        errors.add(name + " must be a whole number, was '" + raw.get() + "'");
        return fallback;
      }
    }

    double decimal(String name, double fallback, double min, double max) {
      Optional<String> raw = optional(name);
      if (raw.isEmpty()) {
        return fallback;
      }
      try {
        double value = Double.parseDouble(raw.get());
        if (!(value >= min && value <= max)) {
          errors.add(name + " must be between " + min + " and " + max + ", was " + raw.get());
        }
        return value;
      } catch (NumberFormatException e) {
        errors.add(name + " must be a number, was '" + raw.get() + "'");
        return fallback;
      }
    }

    Duration millis(String name, int fallback) {
      return Duration.ofMillis(integer(name, fallback, 0, 24 * 3600 * 1000));
    }

    /**
     * A timeout that cannot be turned off: 0 would leave connections to slow clients open for good, or to a receiver
     * that stalls, and fail every delivery's response at once.
     */
    Duration positiveMillis(String name, int fallback) {
      return Duration.ofMillis(integer(name, fallback, 1, 24 * 3600 * 1000));
    }

    /**
     * The Kafka client settings given as {@code KAFKA_CLIENT_<NAME>}, by setting name: {@code NAME} lowercased with
     * {@code _} read as {@code .} ({@code KAFKA_CLIENT_SECURITY_PROTOCOL=SSL} is {@code security.protocol=SSL}). An
     * error names the variable, never its value: some values are secrets.
     */
    Map<String, String> kafkaClientSettings() {
      Map<String, String> settings = new HashMap<>();
      env.keySet().stream().filter(name -> name.startsWith(KafkaConnection.VARIABLE_PREFIX)).sorted().forEach(name -> {
        String setting = KafkaConnection.settingOf(name);
        KafkaConnection.refusal(setting).ifPresentOrElse(
            refusal -> errors.add(name + ": " + refusal),
            () -> optional(name).ifPresent(value -> settings.put(setting, value)));
      });
      return Map.copyOf(settings);
    }

    boolean bool(String name, boolean fallback) {
      Optional<String> raw = optional(name);
      if (raw.isEmpty()) {
        return fallback;
      }
      return switch (raw.get().toLowerCase()) {
        case "true" -> true;
        case "false" -> false;
        default -> {
          errors.add(name + " must be true or false, was '" + raw.get() + "'");
          yield fallback;
        }
      };
    }

    void error(String message) {
      errors.add(message);
    }

    void failIfAnyError() {
      if (!errors.isEmpty()) {
        throw new ConfigException(errors);
      }
    }
  }
}
