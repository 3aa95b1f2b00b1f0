package dev.webhooks.dispatcher.broker;

import dev.webhooks.dispatcher.config.Config;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real Kafka broker, single node (combined broker and KRaft controller), running in this process: the default when
 * {@code KAFKA_BOOTSTRAP_SERVERS} is unset. Its data lives in {@code <dataDir>/kafka}, formatted on first start and
 * reused afterwards, so topics and committed offsets survive a restart. One broker at a time holds a data directory
 * ({@link DataDirLock}), from before it formats or starts anything until it has stopped. {@link #start} and
 * {@link #close} block: call them from {@code main} or a worker, never from an event loop.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final int NODE_ID = 1;
  private static final String HOST = "localhost";
  private static final String CONTROLLER = "CONTROLLER";
  /** A cold start (format, recover logs, elect itself) takes a few seconds here; a minute means something is wrong. */
  private static final long READY_TIMEOUT_SECONDS = 60;
  /**
   * A clean stop of this single-node broker takes a second or two (controlled shutdown, flush, checkpoints). It comes
   * last in the service's stop, after a drain of up to SHUTDOWN_GRACE_MS (20 s by default) and the clients' closing;
   * 15 s is plenty for a slow disk. Longer means it is stuck, e.g. waiting for a controller that will never answer.
   */
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

  private final Path dataDir;
  private final Path logDir;
  private final int requestedPort;
  private KafkaRaftServer server;
  private DataDirLock lock;
  private String bootstrapServers;

  /** A broker keeping its data in {@code <dataDir>/kafka} and listening on localhost:{@code port} (0: any free port). */
  public EmbeddedKafka(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.logDir = dataDir.toAbsolutePath().resolve("kafka");
    this.requestedPort = port;
  }

  /** The broker the configuration asks for: {@code DATA_DIR} and {@code EMBEDDED_KAFKA_PORT}. */
  public static EmbeddedKafka of(Config config) {
    return new EmbeddedKafka(config.dataDir(), config.embeddedKafkaPort());
  }

  /**
   * Formats the storage if this is its first start, starts the broker and waits until it answers an admin request.
   *
   * @return the bootstrap address clients use, e.g. {@code localhost:9092}
   * @throws dev.webhooks.dispatcher.config.ConfigException when another broker holds the data directory
   * @throws IllegalStateException when the broker does not start; the data directory is let go once it has stopped
   */
  public synchronized String start() {
    if (server != null) {
      throw new IllegalStateException("the embedded Kafka broker is already running at " + bootstrapServers);
    }
    DataDirLock held = DataDirLock.acquire(dataDir); // before the controller writes a byte of the metadata log
    KafkaRaftServer started = null;
    String address = HOST + ":" + requestedPort;
    try {
      int port = requestedPort == 0 ? freePort() : requestedPort;
      address = HOST + ":" + port;
      KafkaConfig config = KafkaConfig.fromProps(properties(port, freePort()));
      formatOnFirstStart();
      started = new KafkaRaftServer(config, Time.SYSTEM);
      started.startup();
      awaitAnswer(address);
    } catch (RuntimeException e) {
      if (started == null || stop(started)) {
        held.close();
      }
      throw new IllegalStateException(
          "the embedded Kafka broker did not start on " + address + " (data in " + logDir + "): " + e.getMessage(), e);
    }
    server = started;
    lock = held;
    bootstrapServers = address;
    LOG.info("Embedded Kafka broker ready at {} (data in {})", address, logDir);
    return address;
  }

  /** The address clients connect to; only while started. */
  public synchronized String bootstrapServers() {
    if (server == null) {
      throw new IllegalStateException("the embedded Kafka broker is not running");
    }
    return bootstrapServers;
  }

  /** The directory holding the broker's logs and metadata. */
  public Path logDir() {
    return logDir;
  }

  /**
   * Shuts the broker down cleanly and waits until it has, for {@link #STOP_TIMEOUT} at most: a broker that does not stop
   * by then is logged and left behind (its threads do not keep the JVM from exiting), and the data directory stays held
   * until the process ends, since that broker may still write to it. Never throws; does nothing when not running.
   */
  @Override
  public synchronized void close() {
    if (server != null) {
      boolean stopped = stop(server);
      server = null;
      bootstrapServers = null;
      if (stopped) {
        lock.close();
        LOG.info("Embedded Kafka broker stopped");
      }
      lock = null;
    }
  }

  private Properties properties(int port, int controllerPort) {
    Properties p = new Properties();
    p.putAll(
        Map.ofEntries(
            Map.entry("process.roles", "broker,controller"),
            Map.entry("node.id", String.valueOf(NODE_ID)),
            Map.entry("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort),
            Map.entry("listeners", "PLAINTEXT://" + HOST + ":" + port + "," + CONTROLLER + "://" + HOST + ":" + controllerPort),
            Map.entry("advertised.listeners", "PLAINTEXT://" + HOST + ":" + port),
            Map.entry("controller.listener.names", CONTROLLER),
            Map.entry("inter.broker.listener.name", "PLAINTEXT"),
            Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER + ":PLAINTEXT"),
            Map.entry("log.dirs", logDir.toString()),
            // One node: every internal topic can only have one replica.
            Map.entry("offsets.topic.replication.factor", "1"),
            Map.entry("transaction.state.log.replication.factor", "1"),
            Map.entry("transaction.state.log.min.isr", "1"),
            Map.entry("share.coordinator.state.topic.replication.factor", "1"),
            Map.entry("share.coordinator.state.topic.min.isr", "1"),
            Map.entry("default.replication.factor", "1"),
            // A laptop-sized broker: few internal partitions and threads, a small compaction buffer (the default
            // 128 MiB is allocated on the heap up front; 8 MiB indexes ~350k keys per pass, plenty here).
            Map.entry("offsets.topic.num.partitions", "10"),
            Map.entry("transaction.state.log.num.partitions", "5"),
            Map.entry("share.coordinator.state.topic.num.partitions", "5"),
            Map.entry("num.network.threads", "2"),
            Map.entry("num.io.threads", "2"),
            Map.entry("background.threads", "2"),
            Map.entry("num.recovery.threads.per.data.dir", "1"),
            Map.entry("log.cleaner.threads", "1"),
            Map.entry("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024)),
            // A consumer group of one should not wait 3 s for company.
            Map.entry("group.initial.rebalance.delay.ms", "0"),
            // Topics are created by Topics with the right partitions and policies, never by a stray producer.
            Map.entry("auto.create.topics.enable", "false")));
    return p;
  }

  private void formatOnFirstStart() {
    if (Files.exists(logDir.resolve("meta.properties"))) {
      return;
    }
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    try {
      Files.createDirectories(logDir);
      new Formatter()
          .setPrintStream(new PrintStream(output, true, StandardCharsets.UTF_8))
          .setNodeId(NODE_ID)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(List.of(logDir.toString()))
          .setMetadataLogDirectory(logDir.toString())
          .setControllerListenerName(CONTROLLER)
          .setReleaseVersion(MetadataVersion.latestProduction())
          .run();
      LOG.debug("Formatted new Kafka storage in {}: {}", logDir, output.toString(StandardCharsets.UTF_8).trim());
    } catch (Exception e) {
      throw new IllegalStateException("cannot format Kafka storage in " + logDir + ": " + output, e);
    }
  }

  /**
   * Waits until the broker answers and leads every partition it holds: after a restart it answers a moment before its
   * partitions are led again, and a client arriving in between is told they do not exist.
   */
  private static void awaitAnswer(String address) {
    Map<String, Object> settings =
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, address,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TimeUnit.SECONDS.toMillis(READY_TIMEOUT_SECONDS));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
    try (Admin admin = Admin.create(settings)) {
      admin.describeCluster().nodes().get(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      while (!everyPartitionLed(admin)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("partitions still without a leader after " + READY_TIMEOUT_SECONDS + " s");
        }
        Thread.sleep(100); // start-up runs on main, not on an event loop; there is nothing to be notified by
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the embedded Kafka broker", e);
    } catch (Exception e) {
      throw new IllegalStateException("the embedded Kafka broker did not answer at " + address, e);
    }
  }

  private static boolean everyPartitionLed(Admin admin) throws Exception {
    Set<String> topics = admin.listTopics().names().get(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (topics.isEmpty()) {
      return true;
    }
    try {
      return admin.describeTopics(topics).allTopicNames().get(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS).values().stream()
          .flatMap(topic -> topic.partitions().stream())
          .allMatch(partition -> partition.leader() != null && !partition.leader().isEmpty());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RetriableException) {
        return false;
      }
      throw e;
    }
  }

  /** Whether the broker stopped within {@link #STOP_TIMEOUT}; logs an ERROR when it did not. */
  private boolean stop(KafkaRaftServer server) {
    boolean stopped = runWithin(() -> {
      server.shutdown();
      server.awaitShutdown();
    }, STOP_TIMEOUT, "embedded-kafka-stop");
    if (!stopped) {
      LOG.error("The embedded Kafka broker did not stop within {} s; going on without it (its data in {} is recovered"
          + " on the next start)", STOP_TIMEOUT.toSeconds(), logDir);
    }
    return stopped;
  }

  /**
   * Runs {@code work} on a daemon thread of its own and waits for it for {@code limit} at most: whether it ended in time.
   * A failure of {@code work} is logged, and counts as ended. Left running past its limit, the thread does not hold the
   * JVM: {@code System.exit} waits for no thread, and the only shutdown hook Kafka adds here (its metrics' JMX reporter)
   * takes no lock of the broker's.
   */
  static boolean runWithin(Runnable work, Duration limit, String threadName) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      try {
        work.run();
        done.complete(null);
      } catch (RuntimeException | Error e) {
        done.completeExceptionally(e);
      }
    }, threadName);
    thread.setDaemon(true);
    thread.start();
    try {
      done.get(limit.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      LOG.error("The {} thread failed", threadName, e.getCause());
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** A port free right now; the broker binds it moments later (a race we accept for a single-user default). */
  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free local port for the embedded Kafka broker", e);
    }
  }
}
