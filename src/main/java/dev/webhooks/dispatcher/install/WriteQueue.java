package dev.webhooks.dispatcher.install;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Runs the changes of one installation one after another, so that a change reads the state the previous one wrote:
 * of two updates with the same {@code If-Match}, the second sees the new revision and gets 412 without a round trip to
 * Kafka. This orders the writes of one instance; between instances, the store writes a change only if the state it was
 * made from is still current ({@link InstallationStore#write}).
 */
final class WriteQueue {
  /** Per installation, the future that completes when its latest queued change has finished. */
  private final ConcurrentHashMap<String, Future<Void>> tails = new ConcurrentHashMap<>();

  /** Runs {@code change} once every earlier change of {@code id} has completed, whatever their outcome. */
  <T> Future<T> run(String id, Supplier<Future<T>> change) {
    Promise<Void> finished = Promise.promise();
    Future<Void> mine = finished.future();
    Future<Void> previous = tails.put(id, mine);
    Future<Void> turn = previous == null ? Future.succeededFuture() : previous;
    return turn
        .compose(ready -> change.get())
        .onComplete(done -> {
          tails.remove(id, mine);
          finished.complete();
        });
  }
}
