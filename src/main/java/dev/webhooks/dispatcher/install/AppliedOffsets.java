package dev.webhooks.dispatcher.install;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * How far the reader has applied each partition, and the writes waiting to be applied. A write's future completes on
 * the writer's context once the reader's position in its partition is past its offset. Thread-safe.
 */
final class AppliedOffsets {
  private record Waiter(TopicPartition partition, long offset, Context context, Promise<Void> promise) {}

  private final Map<TopicPartition, Long> positions = new HashMap<>();
  private final List<Waiter> waiters = new ArrayList<>();
  /** Why the reader stopped, once it has: no write waits for it after that. */
  private Throwable stopped;

  /** Completes on {@code context} once the record at {@code offset} has been applied; fails once the reader stopped. */
  synchronized Future<Void> applied(TopicPartition partition, long offset, Context context) {
    if (positions.getOrDefault(partition, 0L) > offset) {
      return Future.succeededFuture();
    }
    if (stopped != null) {
      return Future.failedFuture(stopped);
    }
    Promise<Void> promise = Promise.promise();
    waiters.add(new Waiter(partition, offset, context, promise));
    return promise.future();
  }

  /** Records the reader's next offsets and releases the writes they cover. */
  void advance(Map<TopicPartition, Long> next) {
    List<Waiter> done = new ArrayList<>();
    synchronized (this) {
      positions.putAll(next);
      waiters.removeIf(w -> next.getOrDefault(w.partition(), 0L) > w.offset() && done.add(w));
    }
    done.forEach(w -> w.context().runOnContext(v -> w.promise().tryComplete()));
  }

  /** Fails every waiting write, and every later one: the reader will not apply them. */
  void failAll(Throwable cause) {
    List<Waiter> pending;
    synchronized (this) {
      stopped = cause;
      pending = List.copyOf(waiters);
      waiters.clear();
    }
    pending.forEach(w -> w.context().runOnContext(v -> w.promise().tryFail(cause)));
  }
}
