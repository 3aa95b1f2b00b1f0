package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BodiesTest {
  private static final byte[] BODY = "{\"m\":\"héllo\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void aBodyIsTheBytesItWraps() {
    byte[] bytes = BODY.clone();
    Buffer body = Bodies.of(bytes);

    assertThat(body.getBytes()).isEqualTo(BODY);
    assertThat(body).isEqualTo(Buffer.buffer(BODY));
    bytes[0] = '[';
    assertThat(body.getByte(0)).as("shared, not copied").isEqualTo((byte) '[');
  }

  @Test
  void eachViewReadsTheWholeBodyOverItsArray() {
    Buffer body = Bodies.of(BODY);

    ByteBuffer first = Bodies.view(body);
    first.get(new byte[first.remaining()]);
    ByteBuffer second = Bodies.view(body);

    assertThat(second.hasArray()).as("an HMAC reads the array without copying").isTrue();
    byte[] read = new byte[second.remaining()];
    second.get(read);
    assertThat(read).isEqualTo(BODY);
  }

  @Test
  void aKafkaRecordGetsTheWrappedArrayItselfAndACopyOfAnythingElse() {
    byte[] bytes = BODY.clone();

    assertThat(Bodies.array(Bodies.of(bytes))).isSameAs(bytes);
    Buffer part = Bodies.of(bytes).slice(1, 4);
    assertThat(Bodies.array(part)).isEqualTo(new byte[] {bytes[1], bytes[2], bytes[3]});
    Buffer built = Buffer.buffer(16).appendBytes(BODY);
    assertThat(Bodies.array(built)).isEqualTo(BODY).isNotSameAs(BODY);
  }

  @Test
  void aBufferMadeByVertxHasAViewToo() {
    ByteBuffer view = Bodies.view(Buffer.buffer(BODY));
    byte[] read = new byte[view.remaining()];
    view.get(read);
    assertThat(read).isEqualTo(BODY);
  }
}
