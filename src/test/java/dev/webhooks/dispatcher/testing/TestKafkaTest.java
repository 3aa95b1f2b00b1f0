package dev.webhooks.dispatcher.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

class TestKafkaTest {
  @Test
  void startsARealBroker() throws Exception {
    String topic = TestKafka.uniqueName("t");
    TestKafka.createTopic(topic, 2);
    try (Admin admin = TestKafka.admin()) {
      assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS)).contains(topic);
    }
  }
}
