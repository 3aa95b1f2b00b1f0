package dev.webhooks.dispatcher.testing;

import dev.webhooks.dispatcher.config.KafkaConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.test.JaasUtils;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * One real Kafka broker for the whole test JVM, started on first use and stopped when the JVM exits. It is a KRaft
 * broker in this process, or a container where a Docker engine answers. Tests isolate themselves with fresh topic and
 * group names ({@link #uniqueName}).
 */
public final class TestKafka {
  /** A super user of {@link #startSasl}'s broker (the test kit's). */
  public static final String SASL_ADMIN = JaasUtils.KAFKA_PLAIN_ADMIN;

  /** A user of {@link #startSasl}'s broker with no rights but those ACLs give it (the test kit's). */
  public static final String SASL_USER = JaasUtils.KAFKA_PLAIN_USER1;

  private static String bootstrapServers;

  private TestKafka() {}

  public static synchronized String bootstrapServers() {
    if (bootstrapServers == null) {
      bootstrapServers = dockerAnswers() ? startContainer() : startInProcess();
    }
    return bootstrapServers;
  }

  /** The shared broker as the service's clients reach it: plain, with no settings of its own. */
  public static KafkaConnection connection() {
    return KafkaConnection.plain(bootstrapServers());
  }

  public static String uniqueName(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  public static void createTopic(String topic, int partitions) {
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + topic, e);
    }
  }

  public static Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
  }

  /** Every record in {@code topic} right now, read from the beginning up to the end offsets of this moment. */
  public static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
    return readAll(connection(), topic);
  }

  /** As {@link #readAll(String)}, from the Kafka at the end of {@code kafka}. */
  public static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaConnection kafka, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka.clientConfig(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class)))) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
      return records;
    }
  }

  private static boolean dockerAnswers() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  private static String startContainer() {
    KafkaContainer container = new KafkaContainer("apache/kafka-native:4.1.0");
    container.start();
    Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "test-kafka-stop"));
    return container.getBootstrapServers();
  }

  private static String startInProcess() {
    KafkaClusterTestKit cluster = inProcess(Map.of());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> close(cluster), "test-kafka-stop"));
    return cluster.bootstrapServers();
  }

  /**
   * A broker of its own, in this process, that takes TLS connections only, with a certificate for localhost signed by
   * {@code ca}; a client must trust {@code ca.caPem()}. The caller closes it.
   */
  public static KafkaClusterTestKit startTls(TestCertificates ca) {
    return inProcess(tls(ca));
  }

  /**
   * As {@link #startTls}, and the broker takes only clients that show a certificate signed by {@code ca} (mutual TLS,
   * {@code ssl.client.auth=required}). The caller closes it.
   */
  public static KafkaClusterTestKit startMutualTls(TestCertificates ca) {
    Map<String, String> settings = new HashMap<>(tls(ca));
    settings.put("ssl.client.auth", "required");
    return inProcess(settings);
  }

  private static Map<String, String> tls(TestCertificates ca) {
    TestCertificates.Leaf localhost = ca.localhost();
    return Map.of(
        "listener.security.protocol.map", "EXTERNAL:SSL,CONTROLLER:PLAINTEXT",
        "ssl.keystore.type", "PEM",
        "ssl.keystore.certificate.chain", TestCertificates.read(localhost.certPem()).toString(),
        "ssl.keystore.key", TestCertificates.read(localhost.keyPem()).toString(),
        "ssl.truststore.type", "PEM",
        "ssl.truststore.certificates", TestCertificates.read(ca.caPem()).toString());
  }

  /**
   * A broker of its own, in this process, that takes SASL/PLAIN connections only and authorizes every request with
   * Kafka's {@code StandardAuthorizer}, denying what no ACL allows: {@link #SASL_ADMIN} is a super user, {@link
   * #SASL_USER} may do what ACLs grant it and nothing else. Clients connect with {@link #saslSettings}. The caller closes
   * it.
   */
  public static KafkaClusterTestKit startSasl() {
    return inProcess(Map.of(), SecurityProtocol.SASL_PLAINTEXT);
  }

  /** Client settings that log in to {@link #startSasl}'s broker as {@code user}, with {@code password}. */
  public static Map<String, String> saslSettings(String user, String password) {
    return Map.of(
        "security.protocol", "SASL_PLAINTEXT",
        "sasl.mechanism", "PLAIN",
        "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"%s\" password=\"%s\";"
            .formatted(user, password));
  }

  /** The password of {@link #SASL_ADMIN} or {@link #SASL_USER}. */
  public static String saslPassword(String user) {
    return user.equals(SASL_ADMIN) ? JaasUtils.KAFKA_PLAIN_ADMIN_PASSWORD : JaasUtils.KAFKA_PLAIN_USER1_PASSWORD;
  }

  private static KafkaClusterTestKit inProcess(Map<String, String> brokerSettings) {
    return inProcess(brokerSettings, SecurityProtocol.PLAINTEXT);
  }

  /**
   * One combined broker and controller, started and ready; {@code brokerSettings} override the test kit's, and both
   * listeners speak {@code protocol} (the test kit sets up SASL and ACLs for {@code SASL_PLAINTEXT}).
   */
  private static KafkaClusterTestKit inProcess(Map<String, String> brokerSettings, SecurityProtocol protocol) {
    try {
      KafkaClusterTestKit cluster =
          new KafkaClusterTestKit.Builder(
                  new TestKitNodes.Builder()
                      .setBrokerSecurityProtocol(protocol)
                      .setControllerSecurityProtocol(protocol)
                      .setCombined(true)
                      .setNumBrokerNodes(1)
                      .setNumControllerNodes(1)
                      .setBootstrapMetadataVersion(MetadataVersion.latestProduction())
                      .setPerServerProperties(Map.of(0, brokerSettings))
                      .build())
              .setConfigProp("offsets.topic.replication.factor", "1")
              .setConfigProp("transaction.state.log.replication.factor", "1")
              .setConfigProp("transaction.state.log.min.isr", "1")
              .setConfigProp("group.initial.rebalance.delay.ms", "0")
              .setConfigProp("num.partitions", "1")
              .build();
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
      return cluster;
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the test Kafka broker", e);
    }
  }

  private static void close(KafkaClusterTestKit cluster) {
    try {
      cluster.close();
    } catch (Exception e) {
      // the JVM is exiting; nothing is left to protect
    }
  }
}
