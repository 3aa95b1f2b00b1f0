package dev.webhooks.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The baseline: how a competent team would write this without the dispatcher. One thread per partition, each with a
 * plain {@link KafkaConsumer} poll loop; every delivery is sent synchronously with {@link HttpClient}, with the same
 * headers and signatures, the same retries (sleeping in between), dead letters on the same topic, and
 * {@code commitSync} after each batch. It reads the installed apps from a file the harness writes (the dispatcher gets
 * the same apps through its API); it has no SSRF guard, metrics or install API.
 *
 * <p>Environment: KAFKA_BOOTSTRAP_SERVERS, EVENTS_TOPICS, CONSUMER_GROUP, DEAD_LETTER_TOPIC, ROUTES_FILE,
 * DELIVERY_TRUSTED_CA_PEM; retry settings as the dispatcher's defaults (2000 ms base, x2, 60 s cap).
 */
public final class BaselineMain {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofMillis(5000);
  private static final long BASE_DELAY_MS = 2000;
  private static final double MULTIPLIER = 2;
  private static final long MAX_DELAY_MS = 60_000;
  private static volatile boolean running = true;

  record Webhook(String endpoint, int maxRetries) {}

  record App(String account, String clientId, String secret, Map<String, Webhook> webhooks) {}

  private final Map<String, List<App>> appsByAccount;
  private final HttpClient http;
  private final KafkaProducer<byte[], byte[]> deadLetters;
  private final String deadLetterTopic;

  private BaselineMain(Map<String, List<App>> apps, HttpClient http, KafkaProducer<byte[], byte[]> deadLetters,
      String deadLetterTopic) {
    this.appsByAccount = apps;
    this.http = http;
    this.deadLetters = deadLetters;
    this.deadLetterTopic = deadLetterTopic;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> env = System.getenv();
    String bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS");
    String topic = env.get("EVENTS_TOPICS");
    String group = env.get("CONSUMER_GROUP");
    HttpClient http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(TIMEOUT)
        .sslContext(trusting(Path.of(env.get("DELIVERY_TRUSTED_CA_PEM"))))
        .build();
    KafkaProducer<byte[], byte[]> deadLetters = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.ACKS_CONFIG, "all"));
    BaselineMain baseline = new BaselineMain(routes(Path.of(env.get("ROUTES_FILE"))), http, deadLetters,
        env.get("DEAD_LETTER_TOPIC"));

    List<PartitionInfo> partitions;
    try (KafkaConsumer<byte[], byte[]> probe = consumer(bootstrap, group)) {
      partitions = probe.partitionsFor(topic);
    }
    List<Thread> threads = new ArrayList<>();
    for (PartitionInfo p : partitions) {
      TopicPartition tp = new TopicPartition(topic, p.partition());
      Thread t = new Thread(() -> baseline.consume(bootstrap, group, tp), "partition-" + p.partition());
      t.start();
      threads.add(t);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      running = false;
      for (Thread t : threads) {
        try {
          t.join(15_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      deadLetters.close(Duration.ofSeconds(5));
    }));
    System.out.println("READY " + partitions.size() + " partition threads");
    System.out.flush();
  }

  /** The poll loop of one partition; on stop it commits what it has finished, mid-batch included. */
  private void consume(String bootstrap, String group, TopicPartition tp) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap, group)) {
      consumer.assign(List.of(tp));
      while (running) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        long next = -1;
        for (ConsumerRecord<byte[], byte[]> record : records) {
          if (!running) {
            break;
          }
          handle(record);
          next = record.offset() + 1;
        }
        if (next >= 0) {
          consumer.commitSync(Map.of(tp, new OffsetAndMetadata(next)));
        }
      }
    } catch (Exception e) {
      System.err.println("partition " + tp + " stopped: " + e);
      e.printStackTrace();
    }
  }

  private void handle(ConsumerRecord<byte[], byte[]> record) throws Exception {
    Header accountHeader = record.headers().lastHeader("account-id");
    JsonNode root;
    try {
      root = JSON.readTree(record.value());
    } catch (Exception e) {
      deadLetter(record, null, "", record.value(), 0, "", "invalid-json");
      return;
    }
    if (accountHeader == null) {
      deadLetter(record, null, "", record.value(), 0, "", "missing-account");
      return;
    }
    String account = new String(accountHeader.value(), StandardCharsets.UTF_8);
    String type = root.path("type").asText();
    // changes grouped by webhook key, in their original order
    Map<String, List<JsonNode>> byKey = new LinkedHashMap<>();
    for (JsonNode change : root.path("body").path("changes")) {
      String key = type.equals("ms.MessagingEventNotification")
          ? type + "." + change.path("event").path("type").asText()
          : type;
      byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(change);
    }
    for (App app : appsByAccount.getOrDefault(account, List.of())) {
      for (Map.Entry<String, List<JsonNode>> entry : byKey.entrySet()) {
        Webhook webhook = app.webhooks().get(entry.getKey());
        if (webhook == null) {
          continue;
        }
        byte[] body = byKey.size() == 1 ? record.value() : envelope(root, entry.getValue());
        deliver(record, app, entry.getKey(), webhook, body);
      }
    }
  }

  private static byte[] envelope(JsonNode root, List<JsonNode> changes) throws Exception {
    ObjectNode copy = root.deepCopy();
    ArrayNode array = ((ObjectNode) copy.get("body")).putArray("changes");
    changes.forEach(array::add);
    return JSON.writeValueAsBytes(copy);
  }

  /** Synchronous send with retries and sleeps; a dead letter when the last attempt fails. */
  private void deliver(ConsumerRecord<byte[], byte[]> record, App app, String key, Webhook webhook, byte[] body)
      throws Exception {
    String id = ("bl_" + record.topic() + "_" + record.partition() + "_" + record.offset() + "_" + app.clientId() + "_"
        + key).replace('.', '-');
    String signature = "sha1=" + hmac("HmacSHA1", app.secret(), body);
    int lastStatus = -1;
    String error = "";
    for (int attempt = 0; attempt <= webhook.maxRetries(); attempt++) {
      if (attempt > 0) {
        long delay = (long) Math.min(MAX_DELAY_MS, BASE_DELAY_MS * Math.pow(MULTIPLIER, attempt - 1));
        Thread.sleep(delay + ThreadLocalRandom.current().nextLong(delay / 10 + 1));
      }
      long timestamp = System.currentTimeMillis() / 1000;
      byte[] prefix = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
      byte[] signed = new byte[prefix.length + body.length];
      System.arraycopy(prefix, 0, signed, 0, prefix.length);
      System.arraycopy(body, 0, signed, prefix.length, body.length);
      HttpRequest request = HttpRequest.newBuilder(URI.create(webhook.endpoint()))
          .timeout(TIMEOUT)
          .header("Content-Type", "application/json")
          .header("x-liveperson-account-id", app.account())
          .header("x-liveperson-client-id", app.clientId())
          .header("x-liveperson-signature", signature)
          .header("webhook-id", id)
          .header("webhook-timestamp", Long.toString(timestamp))
          .header("webhook-signature", "v1," + hmac("HmacSHA256", app.secret(), signed))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body))
          .build();
      try {
        HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
        lastStatus = response.statusCode();
        if (lastStatus == 200 || lastStatus == 201) {
          return;
        }
        error = "HTTP " + lastStatus;
        if (lastStatus >= 400 && lastStatus < 500 && lastStatus != 408 && lastStatus != 429) {
          break; // a client error will not change on retry
        }
      } catch (java.io.IOException e) {
        error = e.toString();
        lastStatus = -1;
      }
    }
    deadLetter(record, app, key, body, webhook.maxRetries() + 1, lastStatus < 0 ? "" : String.valueOf(lastStatus),
        "exhausted");
  }

  private void deadLetter(ConsumerRecord<byte[], byte[]> record, App app, String key, byte[] value, int attempts,
      String lastStatus, String reason) throws Exception {
    ProducerRecord<byte[], byte[]> dl = new ProducerRecord<>(deadLetterTopic,
        app == null ? null : app.clientId().getBytes(StandardCharsets.UTF_8), value);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("account-id", app == null ? "" : app.account());
    headers.put("client-id", app == null ? "" : app.clientId());
    headers.put("webhook-key", key);
    headers.put("attempts", String.valueOf(attempts));
    headers.put("last-status", lastStatus);
    headers.put("reason", reason);
    headers.put("source", record.topic() + "/" + record.partition() + "/" + record.offset());
    headers.forEach((k, v) -> dl.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
    deadLetters.send(dl).get(); // durable before the offset may be committed
  }

  private static String hmac(String algorithm, String secret, byte[] message) throws Exception {
    Mac mac = Mac.getInstance(algorithm);
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), algorithm));
    return Base64.getEncoder().encodeToString(mac.doFinal(message));
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, String group) {
    return new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, group,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500,
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
  }

  private static Map<String, List<App>> routes(Path file) throws Exception {
    Map<String, List<App>> byAccount = new HashMap<>();
    for (JsonNode a : JSON.readTree(file.toFile())) {
      Map<String, Webhook> webhooks = new HashMap<>();
      a.path("webhooks").fields().forEachRemaining(e -> webhooks.put(e.getKey(),
          new Webhook(e.getValue().path("endpoint").asText(), e.getValue().path("max_retries").asInt())));
      App app = new App(a.path("account").asText(), a.path("client_id").asText(), a.path("client_secret").asText(),
          webhooks);
      byAccount.computeIfAbsent(app.account(), k -> new ArrayList<>()).add(app);
    }
    return byAccount;
  }

  private static SSLContext trusting(Path pem) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream in = Files.newInputStream(pem)) {
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca-" + i++, c);
      }
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }
}
