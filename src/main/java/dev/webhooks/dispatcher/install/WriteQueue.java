package dev.webhooks.dispatcher.install;

import io.vertx.core.Future;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Runs the changes of one installation one after another, so that a change reads the state the previous one wrote:
 * of two updates with the same {@code If-Match}, the second sees the new revision and gets 412. This serializes the
 * writes of one instance; two instances writing the same installation at the same moment are not coordinated.
 */
final class WriteQueue {
  private final ConcurrentHashMap<String, Future<?>> tails = new ConcurrentHashMap<>();

  /** Runs {@code change} once every earlier change of {@code id} has completed, whatever their outcome. */
  <T> Future<T> run(String id, Supplier<Future<T>> change) {
    @SuppressWarnings("unchecked")
    Future<T>[] mine = new Future[1];
    tails.compute(id, (key, tail) -> {
      Future<Void> turn = tail == null ? Future.succeededFuture() : tail.transform(done -> Future.succeededFuture());
      mine[0] = turn.compose(ready -> change.get());
      return mine[0];
    });
    return mine[0].onComplete(done -> tails.remove(id, mine[0]));
  }
}
