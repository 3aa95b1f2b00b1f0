package dev.webhooks.dispatcher.delivery;

import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Keeps dead letters in memory; can be told to fail its first writes, as a broker outage would. */
final class RecordingDeadLetterWriter implements DeadLetterWriter {
  final List<DeadLetter> written = new CopyOnWriteArrayList<>();
  final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger failuresLeft;

  RecordingDeadLetterWriter(int failFirst) {
    this.failuresLeft = new AtomicInteger(failFirst);
  }

  RecordingDeadLetterWriter() {
    this(0);
  }

  @Override
  public Future<Void> write(DeadLetter deadLetter) {
    calls.incrementAndGet();
    if (failuresLeft.getAndDecrement() > 0) {
      return Future.failedFuture(new IllegalStateException("broker unavailable (test)"));
    }
    written.add(deadLetter);
    return Future.succeededFuture();
  }
}
