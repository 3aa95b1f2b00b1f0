package dev.webhooks.dispatcher.config;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * How every Kafka client of the service (the events consumer, the producers, the admin clients) reaches Kafka: the
 * bootstrap servers, and the connection settings given as {@code KAFKA_CLIENT_*} variables (TLS, SASL). Each client
 * builds its configuration with {@link #clientConfig}, the one place where its own settings and these meet.
 *
 * @param settings Kafka client settings by name ({@code security.protocol}, ...), each accepted by {@link #refusal}
 */
public record KafkaConnection(String bootstrapServers, Map<String, String> settings) {
  public static final String VARIABLE_PREFIX = "KAFKA_CLIENT_";

  /**
   * What the service's own clients set besides where Kafka is: the consumer group, commits, (de)serializers, the
   * outbox's durability and the timeouts the start-up and the installation store rely on. Given again, one would
   * silently change how the service works, so each is refused.
   */
  private static final Set<String> SET_BY_THE_SERVICE = Set.of(
      "client.id", "group.id", "enable.auto.commit", "auto.offset.reset", "max.poll.records",
      "partition.assignment.strategy", "session.timeout.ms", "max.poll.interval.ms", "fetch.max.wait.ms",
      "allow.auto.create.topics", "default.api.timeout.ms", "key.deserializer", "value.deserializer",
      "key.serializer", "value.serializer", "acks", "enable.idempotence", "linger.ms", "max.block.ms",
      "delivery.timeout.ms", "request.timeout.ms");

  /**
   * The settings every kind of client knows: how to connect (security, TLS, SASL, DNS, sockets, reconnects) and
   * metrics. A setting of one kind only (a consumer's fetch sizes, a producer's batching) would reach clients that
   * ignore it, and is not a connection setting.
   */
  private static final Set<String> EVERY_CLIENT_KNOWS = ConsumerConfig.configNames().stream()
      .filter(name -> ProducerConfig.configNames().contains(name) && AdminClientConfig.configNames().contains(name))
      .collect(Collectors.toUnmodifiableSet());

  private static final Set<String> SOME_CLIENT_KNOWS =
      Stream.of(ConsumerConfig.configNames(), ProducerConfig.configNames(), AdminClientConfig.configNames())
          .flatMap(Set::stream).collect(Collectors.toUnmodifiableSet());

  public KafkaConnection {
    settings = Map.copyOf(settings);
  }

  /** A connection with no settings of its own: plain, unauthenticated (the embedded broker, tests). */
  public static KafkaConnection plain(String bootstrapServers) {
    return new KafkaConnection(bootstrapServers, Map.of());
  }

  /**
   * A client's whole configuration: its {@code own} settings ({@link #bootstrapServers} among them) and the connection
   * settings. A connection setting the client also sets is a bug (configuration refuses them), and fails rather than
   * overrides either.
   */
  public Map<String, Object> clientConfig(Map<String, Object> own) {
    Map<String, Object> config = new HashMap<>(own);
    settings.forEach((name, value) -> {
      if (config.putIfAbsent(name, value) != null) {
        throw new IllegalArgumentException(variable(name) + ": " + name + " is set by the service itself");
      }
    });
    return Map.copyOf(config);
  }

  /** Why the client setting {@code name} cannot be given as {@code KAFKA_CLIENT_*}; empty when it can. */
  static Optional<String> refusal(String name) {
    if (name.equals(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG)) {
      return Optional.of("the bootstrap servers are KAFKA_BOOTSTRAP_SERVERS");
    }
    if (SET_BY_THE_SERVICE.contains(name)) {
      return Optional.of(name + " is set by the service itself and cannot be overridden");
    }
    if (!SOME_CLIENT_KNOWS.contains(name)) {
      return Optional.of("'" + name + "' is not a Kafka client setting");
    }
    if (!EVERY_CLIENT_KNOWS.contains(name)) {
      return Optional.of(name + " is not a setting of every Kafka client (consumer, producer and admin); only"
          + " connection settings such as security.protocol, ssl.* and sasl.* can be given");
    }
    return Optional.empty();
  }

  /** The variable that gives the client setting {@code name}: security.protocol is KAFKA_CLIENT_SECURITY_PROTOCOL. */
  static String variable(String name) {
    return VARIABLE_PREFIX + name.toUpperCase(Locale.ROOT).replace('.', '_');
  }

  /** The client setting a {@code KAFKA_CLIENT_*} variable gives: lowercased, {@code _} read as {@code .}. */
  static String settingOf(String variable) {
    return variable.substring(VARIABLE_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
  }

  /** The names of the settings, never their values: sasl.jaas.config and the passwords are secrets. */
  @Override
  public String toString() {
    return "KafkaConnection[bootstrapServers=" + bootstrapServers + ", settings=" + settings.keySet() + "]";
  }
}
