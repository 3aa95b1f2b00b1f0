package dev.webhooks.dispatcher.testing;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.webhooks.dispatcher.Service;
import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.KafkaConnection;
import dev.webhooks.dispatcher.install.SecretCipher;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The whole service, in this JVM, on the shared test broker (or the one its environment names) with topics and a group
 * of its own, trusting the test CA and allowing local endpoints. Gives tests the operations of its users: install an app, publish a record, read dead
 * letters, scrape metrics, and wait until everything published is committed.
 */
public final class RunningService implements AutoCloseable {
  public static final String ADMIN_TOKEN = "test-admin-token";

  private final Service service;
  private final String eventsTopic;
  private final String deadLetterTopic;
  private final List<String> retryTopics;
  private final String group;
  /** The service's own way to Kafka, so its users publish and look where it reads and writes. */
  private final KafkaConnection kafka;
  private final KafkaProducer<byte[], byte[]> producer;

  private RunningService(Service service, Config config) {
    this.service = service;
    this.eventsTopic = config.eventsTopics().get(0);
    this.deadLetterTopic = config.deadLetterTopic();
    this.retryTopics = config.retryTopics();
    this.group = config.consumerGroup();
    this.kafka = new KafkaConnection(service.bootstrapServers(), config.kafkaClientSettings());
    this.producer = new KafkaProducer<>(kafka.clientConfig(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class)));
  }

  /** Starts a service; {@code overrides} are environment variables on top of the test defaults. */
  public static RunningService start(Map<String, String> overrides) {
    Map<String, String> env = environment(TestKafka.uniqueName("it"));
    env.putAll(overrides);
    return startWith(env);
  }

  /** Starts a service with exactly this environment (e.g. a second instance sharing another's topics and group). */
  public static RunningService startWith(Map<String, String> env) {
    Config config = Config.fromEnv(env);
    return new RunningService(Service.start(config), config);
  }

  /**
   * The test defaults: the shared broker, fresh topics and group under {@code prefix}, any free ports, the test CA
   * trusted, local endpoints allowed, and retries fast enough for tests.
   */
  public static Map<String, String> environment(String prefix) {
    Map<String, String> env = new HashMap<>();
    env.put("KAFKA_BOOTSTRAP_SERVERS", TestKafka.bootstrapServers());
    env.put("EVENTS_TOPICS", prefix + "-events");
    env.put("DEAD_LETTER_TOPIC", prefix + "-dead-letters");
    env.put("RETRY_TOPIC", prefix + "-retries");
    env.put("INSTALLATIONS_TOPIC", prefix + "-installations");
    env.put("CONSUMER_GROUP", prefix + "-group");
    env.put("TOPIC_PARTITIONS", "3");
    env.put("HTTP_PORT", "0");
    env.put("MANAGEMENT_PORT", "0");
    env.put("ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("SECRETS_KEY", SecretCipher.generateKey());
    env.put("DELIVERY_TRUSTED_CA_PEM", TestCertificates.shared().caPem().toString());
    env.put("DELIVERY_ALLOW_PRIVATE_NETWORKS", "true");
    env.put("RETRY_BASE_DELAY_MS", "200");
    env.put("SHUTDOWN_GRACE_MS", "2000");
    env.put("WARMUP_MS", "100"); // every start still warms up, beside all the other tests do, but briefly
    return env;
  }

  public Service service() {
    return service;
  }

  public String eventsTopic() {
    return eventsTopic;
  }

  /** Installs {@code manifest} for {@code account} and returns the API's answer (with client_id and client_secret). */
  public JsonNode install(String account, String manifest) {
    return api().install(account, manifest);
  }

  public InstallClient api() {
    return new InstallClient(service.httpPort(), ADMIN_TOKEN);
  }

  /** Publishes a record as a producer would: {@code account-id} header (unless null), the conversation as key. */
  public RecordMetadata publish(String account, String key, byte[] value) {
    try {
      return producer.send(record(account, key, value)).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot publish to " + eventsTopic, e);
    }
  }

  /** As {@link #publish}, without waiting for the broker: for many records at once. */
  public void publishAsync(String account, String key, byte[] value) {
    producer.send(record(account, key, value));
  }

  private ProducerRecord<byte[], byte[]> record(String account, String key, byte[] value) {
    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(
        eventsTopic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    if (account != null) {
      record.headers().add("account-id", account.getBytes(StandardCharsets.UTF_8));
    }
    return record;
  }

  /**
   * Waits until the group has committed every record published so far, in the events topic and in the retry topic:
   * nothing is in flight or waiting for a retry any more.
   */
  public void awaitAllCommitted() {
    List<String> topics = new ArrayList<>(retryTopics);
    topics.add(eventsTopic);
    await().atMost(Duration.ofSeconds(60)).until(() -> allCommitted(topics));
  }

  /** Waits until the group has committed every record of the events topic; retries may still be waiting. */
  public void awaitEventsCommitted() {
    await().atMost(Duration.ofSeconds(60)).until(() -> allCommitted(List.of(eventsTopic)));
  }

  /**
   * Committed offsets are read before the end offsets: a record is committed only after the retry it hands over is in
   * the retry topic, so a retry that is not final yet always shows as a record not committed.
   */
  private boolean allCommitted(List<String> topics) throws Exception {
    try (Admin admin = admin()) {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      admin.describeTopics(topics).allTopicNames().get().values().forEach(topic ->
          topic.partitions().forEach(p -> latest.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest())));
      var ends = admin.listOffsets(latest).all().get();
      for (TopicPartition partition : latest.keySet()) {
        long end = ends.get(partition).offset();
        OffsetAndMetadata done = committed.get(partition);
        if (end > 0 && (done == null || done.offset() < end)) {
          return false;
        }
      }
      return true;
    }
  }

  /** How many members of the service's consumer group hold partitions right now. */
  public long membersWithPartitions() throws Exception {
    try (Admin admin = admin()) {
      return admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group).members().stream()
          .filter(member -> !member.assignment().topicPartitions().isEmpty())
          .count();
    }
  }

  /** Waits until the dead-letter topic holds {@code count} records that match {@code filter}, and returns them. */
  public List<ConsumerRecord<byte[], byte[]>> awaitDeadLetters(Predicate<ConsumerRecord<byte[], byte[]>> filter,
      int count) {
    return await().atMost(Duration.ofSeconds(60)).until(
        () -> deadLettersSoFar().stream().filter(filter).toList(), matching -> matching.size() >= count);
  }

  /**
   * Every dead letter written so far. After {@link #awaitAllCommitted()} that is all of them: a record's offset is
   * committed only once its dead letters are durable.
   */
  public List<ConsumerRecord<byte[], byte[]>> deadLettersSoFar() {
    return TestKafka.readAll(kafka, deadLetterTopic);
  }

  private Admin admin() {
    return Admin.create(kafka.clientConfig(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers())));
  }

  /** The one dead letter of {@code account}, once it is there. */
  public ConsumerRecord<byte[], byte[]> awaitDeadLetterOf(String account) {
    return awaitDeadLetters(r -> account.equals(header(r, "account-id")), 1).get(0);
  }

  /** The management port's Prometheus text. */
  public String scrape() {
    return get("/metrics").body();
  }

  /** A GET on the management port. */
  public HttpResponse<String> get(String path) {
    return InstallClient.send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + service.managementPort() + path)).build());
  }

  @Override
  public void close() {
    producer.close();
    service.stop();
  }

  /** A dead letter's header as text, or null. */
  public static String header(ConsumerRecord<byte[], byte[]> record, String name) {
    var header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  public static JsonNode parse(String json) {
    return InstallClient.parse(json);
  }
}
