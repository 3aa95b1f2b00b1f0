package dev.webhooks.dispatcher.delivery;

import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keeps dead letters and retries in memory; can be told to fail its first writes, as a broker outage would, or to
 * refuse values over a size, as Kafka does past {@code max.request.size}.
 */
final class RecordingOutbox implements Outbox {
  final List<DeadLetter> written = new CopyOnWriteArrayList<>();
  final List<Retry> retries = new CopyOnWriteArrayList<>();
  final List<Integer> tiers = new CopyOnWriteArrayList<>();
  final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger failuresLeft;
  private volatile int maxValueBytes = Integer.MAX_VALUE;

  RecordingOutbox(int failFirst) {
    this.failuresLeft = new AtomicInteger(failFirst);
  }

  RecordingOutbox() {
    this(0);
  }

  /** Fails every write whose value is over {@code bytes} with {@link Outbox.TooLarge}, however often it is tried. */
  RecordingOutbox refusingValuesOver(int bytes) {
    maxValueBytes = bytes;
    return this;
  }

  @Override
  public Future<Void> deadLetter(DeadLetter deadLetter) {
    return deadLetter.value().length() > maxValueBytes ? tooLarge(deadLetter.value().length())
        : record(written, deadLetter);
  }

  @Override
  public Future<Void> retry(Retry retry, int tier) {
    if (retry.body().length() > maxValueBytes) {
      return tooLarge(retry.body().length());
    }
    Future<Void> written = record(retries, retry);
    if (written.succeeded()) {
      tiers.add(tier);
    }
    return written;
  }

  private Future<Void> tooLarge(int bytes) {
    calls.incrementAndGet();
    return Future.failedFuture(new Outbox.TooLarge(
        "The message is " + bytes + " bytes when serialized which is larger than " + maxValueBytes + " (test)", null));
  }

  private <T> Future<Void> record(List<T> into, T item) {
    calls.incrementAndGet();
    if (failuresLeft.getAndDecrement() > 0) {
      return Future.failedFuture(new IllegalStateException("broker unavailable (test)"));
    }
    into.add(item);
    return Future.succeededFuture();
  }
}
