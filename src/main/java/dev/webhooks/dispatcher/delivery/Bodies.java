package dev.webhooks.dispatcher.delivery;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.ByteBuffer;

/**
 * Delivery bodies without copies. A body arrives from Kafka as a {@code byte[]} and leaves as a Vert.x {@link Buffer};
 * {@code Buffer.buffer(byte[])} and {@code Buffer.getBytes()} each copy it, and those two copies were a seventh of
 * the bytes allocated per delivery. Everything here shares the bytes: nothing may write to them afterwards.
 *
 * <p>Uses Vert.x's internal buffer API, the one public way to wrap a Netty buffer. A wrapped buffer can be sent any
 * number of times: Vert.x hands the connection an unreleasable slice of it.
 */
public final class Bodies {
  private Bodies() {}

  /** A buffer over {@code bytes}, which the caller no longer changes. */
  public static Buffer of(byte[] bytes) {
    return BufferInternal.buffer(Unpooled.wrappedBuffer(bytes));
  }

  /**
   * The body's bytes for a Kafka record, which only reads them: the array itself when the body wraps one whole (as
   * every body read from Kafka does), else a copy.
   */
  static byte[] array(Buffer body) {
    ByteBuf bytes = ((BufferInternal) body).getByteBuf();
    if (bytes.hasArray() && bytes.arrayOffset() == 0 && bytes.readerIndex() == 0
        && bytes.readableBytes() == bytes.array().length) {
      return bytes.array();
    }
    return body.getBytes();
  }

  /**
   * The body's bytes, to read only: a view with its own position, over the array itself when the body has one (a
   * read-only view would hide the array, and an HMAC would then copy the body in chunks).
   */
  static ByteBuffer view(Buffer body) {
    return ((BufferInternal) body).getByteBuf().nioBuffer();
  }
}
