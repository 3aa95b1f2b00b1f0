package dev.webhooks.dispatcher.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Publishes to an events topic as the product's producers do, for tests that run the service as its own JVM. */
public final class EventProducer implements AutoCloseable {
  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;

  public EventProducer(String bootstrapServers, String topic) {
    this.topic = topic;
    this.producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.LINGER_MS_CONFIG, 5,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class));
  }

  /** {@code count} ContentEvents, each of a conversation of its own (the ledger's event id); returns those ids. */
  public List<String> publishContent(String account, int count) {
    List<String> conversations = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String conversation = UUID.randomUUID().toString();
      conversations.add(conversation);
      send(account, conversation, Events.content(conversation, "event " + i));
    }
    producer.flush();
    return conversations;
  }

  /** One record with the {@code account-id} header and {@code key}; sent in the background (see {@link #flush}). */
  public void send(String account, String key, String value) {
    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8),
        value.getBytes(StandardCharsets.UTF_8));
    record.headers().add("account-id", account.getBytes(StandardCharsets.UTF_8));
    producer.send(record);
  }

  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close();
  }
}
