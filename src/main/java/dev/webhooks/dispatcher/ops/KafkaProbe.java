package dev.webhooks.dispatcher.ops;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the Kafka cluster answers, asked every few seconds without blocking anyone: the Admin client's futures are
 * completed by its own network thread.
 */
public final class KafkaProbe implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaProbe.class);
  private static final Duration PERIOD = Duration.ofSeconds(2);
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  private final Vertx vertx;
  private final Admin admin;
  private volatile boolean reachable;
  private long timer = -1;

  public KafkaProbe(Vertx vertx, Admin admin) {
    this.vertx = vertx;
    this.admin = admin;
  }

  /** Starts probing; the returned future completes after the first answer, reachable or not. */
  public Future<Void> start() {
    timer = vertx.setPeriodic(PERIOD.toMillis(), id -> probe());
    return probe();
  }

  public boolean reachable() {
    return reachable;
  }

  private Future<Void> probe() {
    DescribeClusterOptions options = new DescribeClusterOptions().timeoutMs((int) TIMEOUT.toMillis());
    return Future.fromCompletionStage(admin.describeCluster(options).clusterId().toCompletionStage())
        .map(id -> true)
        .otherwise(false)
        .map(
            now -> {
              if (now != reachable) {
                LOG.info(now ? "Kafka is reachable" : "Kafka is unreachable");
              }
              reachable = now;
              return null;
            });
  }

  @Override
  public void close() {
    vertx.cancelTimer(timer);
    admin.close(Duration.ofSeconds(2));
  }

}
