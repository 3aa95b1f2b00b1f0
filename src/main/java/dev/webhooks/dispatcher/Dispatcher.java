package dev.webhooks.dispatcher;

import dev.webhooks.dispatcher.intake.EventConsumer;
import dev.webhooks.dispatcher.intake.Incoming;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;

/**
 * Spreads the consumed partitions over delivery {@link Lane}s, one per event loop, so delivery uses every core: a
 * partition always goes to the same lane, which keeps its records in order and its offsets on one thread. The consumer
 * thread hands each batch over split by lane; rebalances and the drain on shutdown ask every lane and merge the answers.
 */
public final class Dispatcher implements EventConsumer.Sink {
  private final List<Lane> lanes;
  private EventConsumer consumer;

  private Dispatcher(List<Lane> lanes) {
    this.lanes = List.copyOf(lanes);
  }

  /** Deploys {@code count} lanes, each on its own event loop; {@code lane} makes one (with a courier of its own). */
  static Future<Dispatcher> deploy(Vertx vertx, int count, Supplier<Lane> lane) {
    List<Lane> deployed = new CopyOnWriteArrayList<>();
    Supplier<Lane> recorded = () -> {
      Lane made = lane.get();
      deployed.add(made);
      return made;
    };
    return vertx.deployVerticle(recorded, new DeploymentOptions().setInstances(count))
        .map(id -> new Dispatcher(deployed));
  }

  /**
   * Whether records are being consumed: started, its consumer's thread still runs, and its polls are not failing for a
   * reason that needs someone to act (a refused ACL, refused credentials).
   */
  public boolean isConsuming() {
    return consumer != null && consumer.isRunning() && !consumer.isBlocked();
  }

  /** Starts consuming through the given consumer, which must have this dispatcher as its sink. */
  public void start(EventConsumer consumer) {
    this.consumer = consumer;
    lanes.forEach(lane -> lane.attach(consumer));
    consumer.start();
  }

  @Override
  public void accept(List<Incoming> batch) {
    Map<Lane, List<Incoming>> byLane = new LinkedHashMap<>();
    for (Incoming incoming : batch) {
      byLane.computeIfAbsent(laneOf(incoming), l -> new ArrayList<>()).add(incoming);
    }
    byLane.forEach(Lane::accept);
  }

  @Override
  public CompletableFuture<Map<TopicPartition, Long>> revoke(Collection<TopicPartition> revoked) {
    List<CompletableFuture<Map<TopicPartition, Long>>> answers = lanes.stream().map(l -> l.revoke(revoked)).toList();
    return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
        .thenApply(all -> merge(answers.stream().map(CompletableFuture::join).toList()));
  }

  @Override
  public void lose(Collection<TopicPartition> lost) {
    lanes.forEach(lane -> lane.lose(lost));
  }

  /**
   * Stops fetching, lets in-flight deliveries finish for up to {@code grace}, commits what is final and closes the
   * consumer. Deliveries still waiting after the grace are abandoned uncommitted: another instance redelivers them.
   * The lanes are told to finish only once the consumer hands nothing more over: a batch polled just before the stop
   * reaches its lane first, and is delivered and committed within the grace like the rest.
   */
  public Future<Void> drain(Duration grace) {
    long deadline = System.nanoTime() + grace.toNanos();
    return Future.fromCompletionStage(consumer.stopFetching())
        .compose(handedOver -> {
          List<Future<Map<TopicPartition, Long>>> finished = lanes.stream().map(l -> l.finish(deadline)).toList();
          return Future.all(finished).map(all -> merge(finished.stream().map(Future::result).toList()));
        })
        .compose(finalOffsets -> Future.fromCompletionStage(consumer.close(finalOffsets)));
  }

  private Lane laneOf(Incoming incoming) {
    int key = 31 * incoming.source().topic().hashCode() + incoming.source().partition();
    return lanes.get(Math.floorMod(key, lanes.size()));
  }

  private static Map<TopicPartition, Long> merge(List<Map<TopicPartition, Long>> answers) {
    Map<TopicPartition, Long> merged = new HashMap<>();
    answers.forEach(merged::putAll);
    return merged;
  }
}
