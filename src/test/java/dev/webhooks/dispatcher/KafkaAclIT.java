package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.KafkaConnection;
import dev.webhooks.dispatcher.testing.CapturedLogs;
import dev.webhooks.dispatcher.testing.Events;
import dev.webhooks.dispatcher.testing.RunningService;
import dev.webhooks.dispatcher.testing.TestCertificates;
import dev.webhooks.dispatcher.testing.TestKafka;
import dev.webhooks.dispatcher.testing.TestReceiver;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Kafka with SASL and ACLs, where no ACL means no access, and the service's principal has exactly the ACLs
 * docs/OPERATIONS.md ("Kafka ACLs") lists, on topics an operator created: it becomes ready, installs (a transaction),
 * delivers through a retry tier and dead-letters. Without READ on its group it stays unready, says which ACL to grant, and recovers by
 * itself once it is granted.
 */
class KafkaAclIT {
  private static final String JAAS_FILE = "java.security.auth.login.config";
  private static final String AUTHORIZER_LOG = "kafka.authorizer.logger";
  private static String jaasBefore;
  private static Level authorizerLogBefore;
  private static KafkaClusterTestKit broker;
  private static KafkaConnection asAdmin;
  private static Vertx vertx;
  private static TestReceiver receiver;

  @BeforeAll
  static void start() {
    jaasBefore = System.getProperty(JAAS_FILE);
    authorizerLogBefore = LogManager.getLogger(AUTHORIZER_LOG).getLevel();
    Configurator.setLevel(AUTHORIZER_LOG, Level.INFO); // where the broker logs each request it denies
    broker = TestKafka.startSasl();
    asAdmin = new KafkaConnection(broker.bootstrapServers(),
        TestKafka.saslSettings(TestKafka.SASL_ADMIN, TestKafka.saslPassword(TestKafka.SASL_ADMIN)));
    vertx = Vertx.vertx();
    receiver = TestReceiver.start(vertx, TestCertificates.shared().localhost());
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      receiver.close();
      vertx.close().await(10, TimeUnit.SECONDS);
      broker.close();
    } finally {
      Configurator.setLevel(AUTHORIZER_LOG, authorizerLogBefore);
      if (jaasBefore == null) { // the test kit pointed the JVM's JAAS at its own file: later tests get what they had
        System.clearProperty(JAAS_FILE);
      } else {
        System.setProperty(JAAS_FILE, jaasBefore);
      }
      javax.security.auth.login.Configuration.setConfiguration(null);
    }
  }

  @Test
  @Timeout(180)
  void withTheDocumentedAclsTheServiceInstallsDeliversAndDeadLetters() throws Exception {
    Map<String, String> env = environmentOnTheSaslBroker("acl-all");
    Config config = Config.fromEnv(env);
    createTopics(config);
    grant(documentedAcls(config));

    try (CapturedLogs logs = CapturedLogs.capture(); RunningService service = RunningService.startWith(env)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> service.get("/health/ready").statusCode() == 200);

      receiver.enqueue(TestReceiver.Response.status(503)); // the first attempt fails: the second comes from a retry tier
      String account = deliversAnInstalledAppsEvent(service, config);
      assertThat(receiver.requests()).filteredOn(r -> r.uri().equals("/" + account)).hasSize(2);
      publish(config, null, Events.content("conversation-2", "no account"));
      await().atMost(Duration.ofSeconds(60)).until(() -> TestKafka.readAll(asAdmin, config.deadLetterTopic()).stream()
          .anyMatch(r -> "missing-account".equals(RunningService.header(r, "reason"))));
      assertThat(logs.text()).doesNotContainIgnoringCase("authoriz").doesNotContain("Denied");
    }
  }

  @Test
  @Timeout(180)
  void withoutReadOnItsGroupTheServiceSaysWhatToGrantAndRecoversOnceItIsGranted() throws Exception {
    Map<String, String> env = environmentOnTheSaslBroker("acl-group");
    Config config = Config.fromEnv(env);
    createTopics(config);
    List<AclBinding> acls = documentedAcls(config);
    AclBinding groupRead = acls.stream().filter(acl -> acl.pattern().resourceType() == ResourceType.GROUP)
        .findFirst().orElseThrow();
    grant(acls.stream().filter(acl -> acl != groupRead).toList());

    try (CapturedLogs logs = CapturedLogs.capture(); RunningService service = RunningService.startWith(env)) {
      String group = config.consumerGroup();
      await().atMost(Duration.ofSeconds(60)).until(() -> logs.text().contains("consumer group " + group
          + " is not authorized: grant READ on group " + group + " (CONSUMER_GROUP) to the service's principal"));
      assertThat(service.get("/health/ready").statusCode()).isEqualTo(503);
      assertThat(logs.text()).contains("Denied"); // the broker's own word, which the other test must not see

      grant(List.of(groupRead));

      await().atMost(Duration.ofSeconds(60)).until(() -> service.get("/health/ready").statusCode() == 200);
      assertThat(logs.text()).contains("The event consumer polls again");
      deliversAnInstalledAppsEvent(service, config);
    }
  }

  /**
   * An app installed through the API (a transaction on the installations topic) gets an event published after;
   * returns its account.
   */
  private static String deliversAnInstalledAppsEvent(RunningService service, Config config) throws Exception {
    String account = "acc" + UUID.randomUUID().toString().substring(0, 8);
    service.install(account, """
        {"client_name": "kafka-acl-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s", "max_retries": 1}}}}
        """.formatted(receiver.url("/" + account)));
    String event = Events.content("conversation-1", "with ACLs");

    publish(config, account, event);

    await().atMost(Duration.ofSeconds(60)).until(() -> receiver.requests().stream()
        .anyMatch(r -> r.uri().equals("/" + account) && r.body().toString().equals(event) && r.answer().status() == 200));
    return account;
  }

  /**
   * What docs/OPERATIONS.md tells an operator to grant the service's principal when the topics exist: read the events,
   * read and write the retry tiers, write dead letters, read, write and check the settings of the installations, read
   * as its consumer group, and write the installations' transactions.
   */
  private static List<AclBinding> documentedAcls(Config config) {
    List<AclBinding> acls = new ArrayList<>();
    for (String events : config.eventsTopics()) {
      allow(acls, ResourceType.TOPIC, events, PatternType.LITERAL, AclOperation.READ, AclOperation.DESCRIBE);
    }
    for (String retries : config.retryTopics()) {
      allow(acls, ResourceType.TOPIC, retries, PatternType.LITERAL,
          AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE);
    }
    allow(acls, ResourceType.TOPIC, config.deadLetterTopic(), PatternType.LITERAL,
        AclOperation.WRITE, AclOperation.DESCRIBE);
    allow(acls, ResourceType.TOPIC, config.installationsTopic(), PatternType.LITERAL,
        AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS);
    allow(acls, ResourceType.GROUP, config.consumerGroup(), PatternType.LITERAL, AclOperation.READ);
    allow(acls, ResourceType.TRANSACTIONAL_ID, config.installationsTopic() + "/", PatternType.PREFIXED,
        AclOperation.WRITE, AclOperation.DESCRIBE);
    return acls;
  }

  private static void allow(List<AclBinding> acls, ResourceType type, String name, PatternType pattern,
      AclOperation... operations) {
    for (AclOperation operation : operations) {
      acls.add(new AclBinding(new ResourcePattern(type, name, pattern), new AccessControlEntry(
          "User:" + TestKafka.SASL_USER, "*", operation, AclPermissionType.ALLOW)));
    }
  }

  /** Creates the ACLs and waits until the broker applies them (the controller commits them first). */
  private static void grant(List<AclBinding> acls) throws Exception {
    try (Admin admin = admin()) {
      admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(30)).until(() -> admin.describeAcls(AclBindingFilter.ANY).values()
          .get(30, TimeUnit.SECONDS).containsAll(acls));
    }
  }

  /** The topics as an operator creates them, the installations compacted. */
  private static void createTopics(Config config) throws Exception {
    List<NewTopic> topics = new ArrayList<>();
    for (String topic : config.eventsTopics()) {
      topics.add(new NewTopic(topic, 3, (short) 1));
    }
    for (String topic : config.retryTopics()) {
      topics.add(new NewTopic(topic, 3, (short) 1));
    }
    topics.add(new NewTopic(config.deadLetterTopic(), 1, (short) 1));
    topics.add(new NewTopic(config.installationsTopic(), 1, (short) 1).configs(Map.of("cleanup.policy", "compact")));
    try (Admin admin = admin()) {
      admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
    }
  }

  /** Publishes as the admin, as the messaging platform would: the service's principal may not write events. */
  private static void publish(Config config, String account, String event) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(asAdmin.clientConfig(Map.of(
        "bootstrap.servers", asAdmin.bootstrapServers(),
        "key.serializer", ByteArraySerializer.class,
        "value.serializer", ByteArraySerializer.class)))) {
      ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(config.eventsTopics().get(0),
          "conversation".getBytes(StandardCharsets.UTF_8), event.getBytes(StandardCharsets.UTF_8));
      if (account != null) {
        record.headers().add("account-id", account.getBytes(StandardCharsets.UTF_8));
      }
      producer.send(record).get(30, TimeUnit.SECONDS);
    }
  }

  private static Admin admin() {
    return Admin.create(asAdmin.clientConfig(Map.of("bootstrap.servers", asAdmin.bootstrapServers())));
  }

  /** The test defaults on the SASL broker, logged in as the user whose only rights are the ACLs a test grants. */
  private static Map<String, String> environmentOnTheSaslBroker(String prefix) {
    Map<String, String> env = RunningService.environment(TestKafka.uniqueName(prefix));
    env.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
    TestKafka.saslSettings(TestKafka.SASL_USER, TestKafka.saslPassword(TestKafka.SASL_USER)).forEach((name, value) ->
        env.put("KAFKA_CLIENT_" + name.toUpperCase(Locale.ROOT).replace('.', '_'), value));
    return env;
  }
}
