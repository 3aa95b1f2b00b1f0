package dev.webhooks.dispatcher.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.webhooks.dispatcher.testing.TestKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublishCommandIT {
  private static final Path EXAMPLES = Path.of("examples");

  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @Test
  void publishesTheExactFileBytesWithAccountHeaderAndConversationKey() throws Exception {
    String topic = TestKafka.uniqueName("publish");
    TestKafka.createTopic(topic, 3);
    Path content = EXAMPLES.resolve("content-event.json");
    Path conversation = EXAMPLES.resolve("conversation-change.json");
    Path notJson = Files.writeString(dir.resolve("raw.txt"), "  not json, sent as is\n");

    int exit = run("--account", "123", "--topic", topic, "--bootstrap", TestKafka.bootstrapServers(),
        content.toString(), conversation.toString(), notJson.toString());

    assertThat(exit).as(text(err)).isZero();
    assertThat(text(out)).contains("topic " + topic).contains("key 4fe52a76-7316-45fe-acf3-482cfb621d9c")
        .contains("key none");
    assertThat(text(err)).as("only the file the dispatcher cannot read is warned of")
        .startsWith("warning: " + notJson + ": the dispatcher will dead-letter this event as invalid-json (")
        .endsWith("), not deliver it; publishing it anyway" + System.lineSeparator())
        .hasLineCount(1);
    List<ConsumerRecord<String, byte[]>> records = consume(topic, 3);
    assertThat(records).extracting(ConsumerRecord::key)
        .containsExactlyInAnyOrder("4fe52a76-7316-45fe-acf3-482cfb621d9c", "5491244f-e462-4c63-bf4e-faf4b2d3e7b5", null);
    for (ConsumerRecord<String, byte[]> record : records) {
      assertThat(new String(record.headers().lastHeader("account-id").value(), StandardCharsets.UTF_8)).isEqualTo("123");
    }
    assertThat(valueFor(records, "4fe52a76-7316-45fe-acf3-482cfb621d9c")).isEqualTo(Files.readAllBytes(content));
    assertThat(valueFor(records, "5491244f-e462-4c63-bf4e-faf4b2d3e7b5")).isEqualTo(Files.readAllBytes(conversation));
    assertThat(valueFor(records, null)).isEqualTo(Files.readAllBytes(notJson));
  }

  @Test
  void anExplicitKeyWins() throws Exception {
    String topic = TestKafka.uniqueName("publish-key");
    TestKafka.createTopic(topic, 1);

    int exit = run("--account", "9", "--key", "my-key", "--topic", topic, "--bootstrap", TestKafka.bootstrapServers(),
        EXAMPLES.resolve("chat-state-event.json").toString());

    assertThat(exit).as(text(err)).isZero();
    assertThat(consume(topic, 1)).extracting(ConsumerRecord::key).containsExactly("my-key");
  }

  @Test
  void warnsOfAnEventTheDispatcherWouldDeadLetterButPublishesIt() throws Exception {
    String topic = TestKafka.uniqueName("publish-warn");
    TestKafka.createTopic(topic, 1);
    Path unknownType = Files.writeString(dir.resolve("unknown.json"),
        "{\"kind\":\"notification\",\"type\":\"ms.SomethingElse\",\"body\":{\"changes\":[{}]}}");

    int exit = run("--account", "7", "--topic", topic, "--bootstrap", TestKafka.bootstrapServers(),
        unknownType.toString());

    assertThat(exit).as(text(err)).isZero();
    assertThat(text(err)).isEqualTo("warning: " + unknownType + ": the dispatcher will dead-letter this event as"
        + " unknown-type (unknown notification type 'ms.SomethingElse'), not deliver it; publishing it anyway"
        + System.lineSeparator());
    assertThat(consume(topic, 1)).extracting(ConsumerRecord::value).containsExactly(Files.readAllBytes(unknownType));
  }

  @Test
  void failsClearlyOnAMissingTopicFileOrAccount() {
    assertThat(run("--account", "1", "--topic", TestKafka.uniqueName("absent"), "--bootstrap",
        TestKafka.bootstrapServers(), EXAMPLES.resolve("content-event.json").toString())).isEqualTo(1);
    assertThat(text(err)).contains("does not exist");

    err.reset();
    assertThat(run("--account", "1", dir.resolve("nope.json").toString())).isEqualTo(1);
    assertThat(text(err)).isEqualTo("publish: " + dir.resolve("nope.json") + ": no such file" + System.lineSeparator());

    assertThatThrownBy(() -> run("content-event.json")).isInstanceOf(UsageException.class).hasMessageContaining("--account");
    assertThatThrownBy(() -> run("--account", "1")).isInstanceOf(UsageException.class);
  }

  @Test
  void failsWithinTheTimeoutWhenNoBrokerListens() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }

    int exit = run("--account", "1", "--bootstrap", "localhost:" + closedPort, EXAMPLES.resolve("content-event.json").toString());

    assertThat(exit).isEqualTo(1);
    assertThat(text(err)).contains("cannot publish to Kafka at localhost:" + closedPort);
  }

  @Test
  void namesTheRootCauseWhenTheBrokerHostDoesNotResolve() {
    int exit = run("--account", "1", "--bootstrap", "nohost.invalid:9092", EXAMPLES.resolve("content-event.json").toString());

    assertThat(exit).isEqualTo(1);
    assertThat(text(err)).isEqualTo("cannot publish to Kafka at nohost.invalid:9092 (No resolvable bootstrap urls given"
        + " in bootstrap.servers); is the dispatcher or your broker running? Set --bootstrap or KAFKA_BOOTSTRAP_SERVERS."
        + System.lineSeparator());
  }

  private int run(String... args) {
    return PublishCommand.run(List.of(args), Map.of(),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static String text(ByteArrayOutputStream stream) {
    return stream.toString(StandardCharsets.UTF_8);
  }

  private static byte[] valueFor(List<ConsumerRecord<String, byte[]>> records, String key) {
    return records.stream().filter(r -> java.util.Objects.equals(r.key(), key)).findFirst().orElseThrow().value();
  }

  private static List<ConsumerRecord<String, byte[]>> consume(String topic, int expected) {
    Map<String, Object> settings =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, TestKafka.uniqueName("group"),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(settings)) {
      consumer.subscribe(List.of(topic));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        return records.size() >= expected;
      });
    }
    return records;
  }
}
