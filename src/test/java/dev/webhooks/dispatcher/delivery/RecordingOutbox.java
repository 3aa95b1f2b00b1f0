package dev.webhooks.dispatcher.delivery;

import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Keeps dead letters and retries in memory; can be told to fail its first writes, as a broker outage would. */
final class RecordingOutbox implements Outbox {
  final List<DeadLetter> written = new CopyOnWriteArrayList<>();
  final List<Retry> retries = new CopyOnWriteArrayList<>();
  final List<Integer> tiers = new CopyOnWriteArrayList<>();
  final AtomicInteger calls = new AtomicInteger();
  private final AtomicInteger failuresLeft;

  RecordingOutbox(int failFirst) {
    this.failuresLeft = new AtomicInteger(failFirst);
  }

  RecordingOutbox() {
    this(0);
  }

  @Override
  public Future<Void> deadLetter(DeadLetter deadLetter) {
    return record(written, deadLetter);
  }

  @Override
  public Future<Void> retry(Retry retry, int tier) {
    Future<Void> written = record(retries, retry);
    if (written.succeeded()) {
      tiers.add(tier);
    }
    return written;
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
