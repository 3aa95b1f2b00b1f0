package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.webhooks.dispatcher.config.ConfigException;
import dev.webhooks.dispatcher.testing.CapturedLogs;
import dev.webhooks.dispatcher.testing.TestKafka;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class InstallationStoreIT {
  private static final long NOW = 1_700_000_000L;
  private static final SecretCipher CIPHER = SecretCipher.fromBase64(SecretCipher.generateKey());
  /** The key of another instance, configured with another SECRETS_KEY. */
  private static final SecretCipher OTHER_KEY = SecretCipher.fromBase64(SecretCipher.generateKey());
  private static Vertx vertx;
  private final List<InstallationStore> stores = new ArrayList<>();

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() {
    vertx.close().await();
  }

  @AfterEach
  void closeStores() {
    stores.forEach(s -> s.close().await());
  }

  @Test
  void catchesUpOnAnEmptyTopic() throws Exception {
    InstallationStore store = started(InstallationTopics.create());
    assertThat(store.isCaughtUp()).isTrue();
    assertThat(store.installationsOf("acc")).isEmpty();
    assertThat(store.countsByState()).containsEntry("enabled", 0L).containsEntry("disabled", 0L);
  }

  @Test
  void servesAWriteAsSoonAsItCompletes() throws Exception {
    InstallationStore store = started(InstallationTopics.create());
    Installation written = installed(store, "app-1", record("app-1", "acc", "secret-1", true));
    assertThat(written.signingSecrets()).containsExactly("secret-1");
    assertThat(store.find("app-1")).contains(written);
    assertThat(store.installationsOf("acc")).containsExactly(written);
    assertThat(written.webhooks()).containsKey(WebhookKeys.CONTENT);
    assertThat(written.revision()).isEqualTo("1");

    assertThat(store.delete("app-1", store.stored("app-1").orElseThrow()).await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(store.find("app-1")).isEmpty();
    assertThat(store.installationsOf("acc")).isEmpty();
  }

  @Test
  void aSecondInstanceReadsTheTopicAndFollowsItLive() throws Exception {
    String topic = InstallationTopics.create();
    InstallationStore first = started(topic);
    installed(first, "app-1", record("app-1", "acc", "secret-1", true));
    installed(first, "app-2", record("app-2", "acc", "secret-2", false));

    InstallationStore second = started(topic);
    assertThat(second.installationsOf("acc")).extracting(Installation::id).containsExactlyInAnyOrder("app-1", "app-2");
    assertThat(second.find("app-1").orElseThrow().currentSecret()).isEqualTo("secret-1");
    assertThat(second.countsByState()).containsEntry("enabled", 1L).containsEntry("disabled", 1L);

    installed(first, "app-3", record("app-3", "other", "secret-3", true));
    first.delete("app-1", first.stored("app-1").orElseThrow()).await(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(second.installationsOf("other")).extracting(Installation::id).containsExactly("app-3");
      assertThat(second.find("app-1")).isEmpty();
    });
  }

  @Test
  void skipsARecordItCannotLoadAndKeepsReading() throws Exception {
    String topic = InstallationTopics.create();
    try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()), new StringSerializer(),
        new ByteArraySerializer())) {
      raw.send(new ProducerRecord<>(topic, "garbage", "{not json".getBytes(StandardCharsets.UTF_8))).get();
    }
    InstallationStore store = started(topic);
    assertThat(store.find("garbage")).isEmpty();

    installed(store, "app-1", record("app-1", "acc", "secret-1", true));
    assertThat(store.installationsOf("acc")).extracting(Installation::id).containsExactly("app-1");
  }

  @Test
  void anInstallationSealedWithAnotherKeyStopsTheStartNamingTheKey() throws Exception {
    String topic = InstallationTopics.create();
    InstallationStore theirs = started(topic, OTHER_KEY);
    installed(theirs, "app-1", record("app-1", "acc", "secret-1", true, OTHER_KEY));
    installed(theirs, "app-2", record("app-2", "acc", "secret-2", true, OTHER_KEY));
    try (KafkaProducer<String, byte[]> raw = rawProducer()) { // sealed with this key, for another installation
      raw.send(new ProducerRecord<>(topic, "app-3", record("app-1", "acc", "copied", true).toJson())).get();
    }

    InstallationStore store = new InstallationStore(vertx, TestKafka.connection(), topic, CIPHER);
    stores.add(store);
    Future<Void> caughtUp = store.start();

    await().atMost(Duration.ofSeconds(30)).until(caughtUp::failed);
    assertThat(caughtUp.cause()).isInstanceOf(ConfigException.class)
        .hasMessageContaining("the secrets key in SECRETS_KEY cannot open the client secrets of 3 installations")
        .hasMessageContaining("app-1, app-2, app-3")
        .hasMessageContaining("written with another key (key id " + OTHER_KEY.keyId() + "; this key's id is "
            + CIPHER.keyId() + ")")
        .hasMessageContaining("Restore the key the installations were written with")
        .hasMessageContaining("Besides, the records of app-3 were sealed with this key (key id " + CIPHER.keyId() + ")");
    assertThat(store.isCaughtUp()).isFalse();
    assertThat(store.isComplete()).isFalse();
  }

  /** A record sealed with this key for another installation id is not a key mix-up, and is not called one. */
  @Test
  void aSecretCopiedFromAnotherInstallationIsToldApartFromAnotherKey() throws Exception {
    String topic = InstallationTopics.create();
    try (KafkaProducer<String, byte[]> raw = rawProducer()) {
      raw.send(new ProducerRecord<>(topic, "app-2", record("app-1", "acc", "copied", true).toJson())).get();
    }
    InstallationStore store = new InstallationStore(vertx, TestKafka.connection(), topic, CIPHER);
    stores.add(store);
    Future<Void> caughtUp = store.start();

    await().atMost(Duration.ofSeconds(30)).until(caughtUp::failed);
    assertThat(caughtUp.cause()).isInstanceOf(ConfigException.class)
        .hasMessageContaining("cannot open the client secrets of 1 installation (app-2): they were sealed with this key"
            + " (key id " + CIPHER.keyId() + "), yet they do not open for their installation ids")
        .hasMessageNotContaining("Restore the key");

    String liveTopic = InstallationTopics.create();
    InstallationStore live = started(liveTopic);
    try (CapturedLogs logs = CapturedLogs.capture(); KafkaProducer<String, byte[]> raw = rawProducer()) {
      raw.send(new ProducerRecord<>(liveTopic, "app-2", record("app-1", "acc", "copied", true).toJson())).get();
      await().atMost(Duration.ofSeconds(10)).until(() -> !live.isComplete("acc"));
      await().atMost(Duration.ofSeconds(10)).until(() -> logs.text().contains("Installation app-2 at "));
      assertThat(logs.text()).contains("its client secret was sealed with this key (key id " + CIPHER.keyId()
          + ") but not for this installation id").doesNotContain("another SECRETS_KEY");
    }
  }

  @Test
  void anUnreadableRecordFollowedByOneThatReadsOrDeletesItDoesNotStopTheStart() throws Exception {
    String topic = InstallationTopics.create();
    try (KafkaProducer<String, byte[]> raw = rawProducer()) {
      raw.send(new ProducerRecord<>(topic, "app-1", record("app-1", "acc", "old", true, OTHER_KEY).toJson())).get();
      raw.send(new ProducerRecord<>(topic, "app-1", record("app-1", "acc", "new", true).toJson())).get();
      raw.send(new ProducerRecord<>(topic, "app-2", record("app-2", "acc", "gone", true, OTHER_KEY).toJson())).get();
      raw.send(new ProducerRecord<String, byte[]>(topic, "app-2", null)).get();
    }

    InstallationStore store = started(topic);

    assertThat(store.isCaughtUp()).isTrue();
    assertThat(store.installationsOf("acc")).extracting(Installation::currentSecret).containsExactly("new");
  }

  @Test
  void anInstallationWrittenLaterWithAnotherKeyHoldsItsAccountIncompleteUntilItIsWrittenAgain() throws Exception {
    String topic = InstallationTopics.create();
    InstallationStore store = started(topic);
    installed(store, "app-1", record("app-1", "acc", "secret-1", true));
    installed(store, "app-2", record("app-2", "other", "secret-2", true));

    try (CapturedLogs logs = CapturedLogs.capture(); KafkaProducer<String, byte[]> raw = rawProducer()) {
      // as an instance with another SECRETS_KEY writes
      raw.send(new ProducerRecord<>(topic, "app-1", record("app-1", "acc", "theirs", true, OTHER_KEY).toJson()))
          .get();
      await().atMost(Duration.ofSeconds(10)).until(() -> logs.text().contains("Installation app-1 at "));
      assertThat(logs.text()).contains("does not authenticate with the secrets key in SECRETS_KEY (key id "
          + CIPHER.keyId() + "); it was sealed with key id " + OTHER_KEY.keyId() + ", so an instance with another"
          + " SECRETS_KEY wrote it");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> !store.isComplete());
    assertThat(store.isComplete("acc")).isFalse();
    assertThat(store.isComplete("other")).as("another account routes on").isTrue();
    assertThat(store.isCaughtUp()).as("still ready: the API that fixes it stays reachable").isTrue();
    assertThat(store.countsByState()).containsEntry("unreadable", 1L).containsEntry("enabled", 1L);
    assertThat(store.find("app-1")).as("its older version is not its state any more").isEmpty();
    assertThat(store.installationsOf("acc")).isEmpty();

    installed(store, "app-1", record("app-1", "acc", "imported-again", true));

    assertThat(store.isComplete()).isTrue();
    assertThat(store.isComplete("acc")).isTrue();
    assertThat(store.countsByState()).containsEntry("unreadable", 0L).containsEntry("enabled", 2L);
    assertThat(store.find("app-1").orElseThrow().currentSecret()).isEqualTo("imported-again");
  }

  @Test
  void waitsForTheTopicWithoutCreatingIt() throws Exception {
    String topic = TestKafka.uniqueName("app-installations");
    InstallationStore store = new InstallationStore(vertx, TestKafka.connection(), topic, CIPHER);
    stores.add(store);
    Future<Void> caughtUp = store.start();
    try (Admin admin = TestKafka.admin()) {
      await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(5))
          .until(() -> !admin.listTopics().names().get().contains(topic));
    }
    assertThat(store.isCaughtUp()).isFalse();

    TestKafka.createTopic(topic, 1);
    caughtUp.await(30, TimeUnit.SECONDS);
    assertThat(store.isCaughtUp()).isTrue();
  }

  @Test
  void closesCleanlyAndRefusesWritesAfterwards() throws Exception {
    InstallationStore store = new InstallationStore(vertx, TestKafka.connection(), InstallationTopics.create(),
        CIPHER);
    store.start().await(30, TimeUnit.SECONDS);

    store.close().await(10, TimeUnit.SECONDS);

    assertThat(store.isCaughtUp()).isFalse();
    Future<Optional<Installation>> write = store.write("app-1", Optional.empty(), record("app-1", "acc", "s", true));
    assertThat(write.failed()).isTrue();
  }

  @Test
  void writesOnlyOverTheStateAChangeWasMadeFrom() throws Exception {
    String topic = InstallationTopics.create(1);
    InstallationStore first = started(topic);
    InstallationStore second = started(topic);
    StoredInstallation created = record("app-1", "acc", "secret-1", true);
    installed(first, "app-1", created);
    await().atMost(Duration.ofSeconds(10)).until(() -> second.stored("app-1").isPresent());

    Optional<Installation> imported = second.write("app-1", Optional.empty(), record("app-1", "other", "s-2", true))
        .await(30, TimeUnit.SECONDS);
    StoredInstallation revised = created.revise(created.manifest().deepCopy().put("description", "first"), NOW);
    Optional<Installation> firstUpdate =
        first.write("app-1", Optional.of(created), revised).await(30, TimeUnit.SECONDS);
    Optional<Installation> staleUpdate = second.write("app-1", Optional.of(created),
        created.revise(created.manifest().deepCopy().put("description", "second"), NOW)).await(30, TimeUnit.SECONDS);
    boolean staleDelete = second.delete("app-1", created).await(30, TimeUnit.SECONDS);

    assertThat(imported).as("the client id was taken").isEmpty();
    assertThat(firstUpdate).isPresent();
    assertThat(staleUpdate).as("made from revision 1, which is no longer current").isEmpty();
    assertThat(staleDelete).isFalse();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(first.stored("app-1")).contains(revised);
      assertThat(second.stored("app-1")).contains(revised);
    });
    assertThat(InstallationTopics.records(topic)).as("the writes that lost left nothing to read")
        .extracting(r -> StoredInstallation.fromJson(r.value())).containsExactly(created, revised);
  }

  private static Installation installed(InstallationStore store, String id, StoredInstallation record)
      throws Exception {
    return store.write(id, Optional.empty(), record).await(30, TimeUnit.SECONDS).orElseThrow();
  }

  private InstallationStore started(String topic) throws Exception {
    return started(topic, CIPHER);
  }

  private InstallationStore started(String topic, SecretCipher cipher) throws Exception {
    InstallationStore store = new InstallationStore(vertx, TestKafka.connection(), topic, cipher);
    stores.add(store);
    store.start().await(30, TimeUnit.SECONDS);
    return store;
  }

  private static StoredInstallation record(String id, String account, String secret, boolean enabled) {
    return record(id, account, secret, enabled, CIPHER);
  }

  private static StoredInstallation record(String id, String account, String secret, boolean enabled,
      SecretCipher cipher) {
    ObjectNode manifest = Manifests.withWebhook(WebhookKeys.CONTENT, "https://example.com/" + UUID.randomUUID())
        .put("enabled", enabled);
    return StoredInstallation.create(id, account, Manifest.canonical(manifest), secret, cipher, NOW);
  }

  private static KafkaProducer<String, byte[]> rawProducer() {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()),
        new StringSerializer(), new ByteArraySerializer());
  }
}
