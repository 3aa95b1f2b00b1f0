package dev.webhooks.dispatcher;

import dev.webhooks.dispatcher.broker.EmbeddedKafka;
import dev.webhooks.dispatcher.broker.Topics;
import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.Credentials;
import dev.webhooks.dispatcher.config.KafkaConnection;
import dev.webhooks.dispatcher.delivery.AddressGuard;
import dev.webhooks.dispatcher.delivery.Courier;
import dev.webhooks.dispatcher.delivery.DeliveryListener;
import dev.webhooks.dispatcher.delivery.HostResolver;
import dev.webhooks.dispatcher.delivery.KafkaOutbox;
import dev.webhooks.dispatcher.delivery.RetryPolicy;
import dev.webhooks.dispatcher.delivery.Trust;
import dev.webhooks.dispatcher.install.AccessTokens;
import dev.webhooks.dispatcher.install.InstallApi;
import dev.webhooks.dispatcher.install.InstallationStore;
import dev.webhooks.dispatcher.install.LogoFetcher;
import dev.webhooks.dispatcher.install.SecretCipher;
import dev.webhooks.dispatcher.intake.EventConsumer;
import dev.webhooks.dispatcher.intake.EventDecoder;
import dev.webhooks.dispatcher.ops.ClientDeadlines;
import dev.webhooks.dispatcher.ops.DeliveryLog;
import dev.webhooks.dispatcher.ops.KafkaProbe;
import dev.webhooks.dispatcher.ops.Listeners;
import dev.webhooks.dispatcher.ops.ManagementServer;
import dev.webhooks.dispatcher.ops.Metrics;
import dev.webhooks.dispatcher.routing.Router;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.TrustOptions;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.net.BindException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole service wired together, in the order data flows: the broker (embedded or not) and its topics, the
 * installation view, the courier and the dispatcher that feeds it, the App Install API and the management port.
 *
 * <p>{@link #start} and {@link #stop} block the calling thread (main, or a test), never an event loop.
 */
public final class Service {
  private static final Logger LOG = LoggerFactory.getLogger(Service.class);
  /** One delivery lane per core: each runs on an event loop of its own (Vert.x has two per core). */
  private static final int DELIVERY_LANES = Math.max(1, Runtime.getRuntime().availableProcessors());
  /** A poll hands this many records over at most; the per-partition cap, not this, bounds the work in flight. */
  private static final int MAX_POLL_RECORDS = 500;
  /** Ample for a cluster to list and create topics; short enough that the reason for waiting is logged promptly. */
  private static final Duration KAFKA_ATTEMPT_TIMEOUT = Duration.ofSeconds(10);
  /** Between attempts that fail fast (an unresolvable host, a refused ACL), so the log is not flooded. */
  private static final Duration KAFKA_RETRY_PAUSE = Duration.ofSeconds(2);

  private final Config config;
  private final Credentials credentials;
  private final Optional<EmbeddedKafka> embedded;
  private final String bootstrapServers;
  private final Vertx vertx;
  private final InstallationStore store;
  private final KafkaOutbox outbox;
  private final KafkaProbe probe;
  private final KafkaClientMetrics consumerMetrics;
  private final Dispatcher dispatcher;
  private final HttpServer managementServer;
  private final HttpServer apiServer;
  private final AtomicBoolean stopping;
  private final BooleanSupplier ready;

  private Service(Builder b) {
    this.stopping = b.stopping;
    this.ready = b::isReady;
    this.config = b.config;
    this.credentials = b.credentials;
    this.embedded = b.embedded;
    this.bootstrapServers = b.bootstrapServers;
    this.vertx = b.vertx;
    this.store = b.store;
    this.outbox = b.outbox;
    this.probe = b.probe;
    this.consumerMetrics = b.consumerMetrics;
    this.dispatcher = b.dispatcher;
    this.managementServer = b.managementServer;
    this.apiServer = b.apiServer;
  }

  /**
   * Starts everything and returns once the installation view has caught up and events are being consumed. The
   * management port answers from early on (live, not yet ready), so an orchestrator sees a slow start as such.
   *
   * @throws dev.webhooks.dispatcher.config.ConfigException when the configuration cannot work (missing secrets, an
   *     installations topic that does not compact)
   * @throws IllegalStateException when a part cannot start (embedded broker; a port taken: {@link PortUnavailable}),
   *     after stopping the rest; an external Kafka that does not answer is waited for, live and not ready
   */
  public static Service start(Config config) {
    return start(config, new CompletableFuture<>());
  }

  /**
   * As {@link #start(Config)}, but a stop requested meanwhile (a SIGTERM during a rollout) ends the start at its next
   * wait on Kafka: what started is stopped, and {@link StoppedWhileStarting} is thrown.
   */
  public static Service start(Config config, CompletionStage<Void> stopRequested) {
    Builder b = new Builder(config, stopRequested.toCompletableFuture());
    try {
      b.credentials = Credentials.resolve(config);
      // Read before any wait on Kafka, so a mistyped file stops the start at once rather than once Kafka answers
      Optional<TrustOptions> extraCas = Trust.withExtraCas(config.trustedCaPem());
      b.embedded = config.embeddedKafka() ? Optional.of(EmbeddedKafka.of(config)) : Optional.empty();
      b.bootstrapServers = b.embedded.map(EmbeddedKafka::start).orElseGet(() -> config.kafkaBootstrapServers().get());
      // The topics are made on a thread of their own while Vert.x and the management server start: all of it is
      // mostly class loading, which two cores do side by side.
      KafkaConnection kafka = new KafkaConnection(b.bootstrapServers, config.kafkaClientSettings());
      CompletableFuture<Void> topicsMade = new CompletableFuture<>();
      b.topicsThread = new Thread(() -> {
        try {
          awaitKafka(kafka, config);
          topicsMade.complete(null);
        } catch (RuntimeException | Error e) {
          topicsMade.completeExceptionally(e);
        }
      }, "kafka-topics");
      b.topicsThread.start();
      PrometheusMeterRegistry registry = registry();
      b.vertx = vertx(registry);
      // The delivery path warms up against a loopback receiver of its own while the rest starts and waits on Kafka.
      b.warmedUp = WarmUp.run(b.vertx, config, config.warmUp(), b.warmUpCutShort.future());
      // webhook_ready is there (0) from the first scrape: an instance stuck waiting for Kafka must still be seen
      Metrics metrics = new Metrics(registry, Clock.systemUTC());
      metrics.readiness(b::isReady);
      ClientDeadlines deadlines = new ClientDeadlines(config.httpIdleTimeout(), config.httpRequestTimeout());
      b.managementServer = bind(new ManagementServer(b.vertx, registry, b::isReady, deadlines)
          .listen(config.managementPort()), "MANAGEMENT_PORT", config.managementPort());
      b.awaitUnlessStopped(topicsMade);

      SecretCipher cipher = SecretCipher.fromBase64(b.credentials.secretsKey(), b.credentials.secretsKeySource());
      b.store = new InstallationStore(b.vertx, kafka, config.installationsTopic(), cipher);
      metrics.installations(b.store::countsByState);
      b.probe = new KafkaProbe(b.vertx, Admin.create(kafka.clientConfig(Map.of(
          AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers,
          AdminClientConfig.CLIENT_ID_CONFIG, "webhook-probe"))));
      Future<Void> kafkaAnswers = b.probe.start();
      LOG.info("Reading the installations from topic {} with the secrets key {} (key id {})",
          config.installationsTopic(), cipher.source(), cipher.keyId());
      Future<Void> viewCaughtUp = b.store.start();

      // Built while the probe and the view's reader wait on Kafka on their own threads: start-up is mostly class
      // loading, which overlaps that wait.
      b.outbox = KafkaOutbox.create(b.vertx, kafka, config.deadLetterTopic(), config.retryTopics(),
          config.maxRecordBytes());
      DeliveryListener listener = Listeners.of(metrics, new DeliveryLog());
      Router router = new Router(b.store);
      HostResolver resolver = HostResolver.system(b.vertx);
      Dispatcher dispatcher = await(Dispatcher.deploy(b.vertx, DELIVERY_LANES,
          () -> new Lane(router, Courier.create(b.vertx, config, resolver, b.outbox, listener), metrics)));
      AddressGuard guard = new AddressGuard(config.allowPrivateNetworks(), resolver);
      LogoFetcher logos = new LogoFetcher(b.vertx, resolver, guard, extraCas);
      AccessTokens tokens = AccessTokens.fromSecretsKey(b.credentials.secretsKey(), Clock.systemUTC());
      InstallApi api = new InstallApi(b.vertx, b.store, guard, logos, cipher, b.credentials.adminToken(),
          Clock.systemUTC(), config.secretRotationGrace(), tokens);

      b.awaitUnlessStopped(kafkaAnswers.toCompletionStage());
      // no event is routed, and no API call answered, before the view has every installation
      b.awaitUnlessStopped(viewCaughtUp.toCompletionStage());
      // Bound once the view has caught up, so no call is answered before it, and before any event is consumed, so a
      // port taken ends the start before this instance takes partitions from the group or commits anything.
      b.apiServer = bind(deadlines.server(b.vertx, api.router()).listen(config.httpPort()), "HTTP_PORT",
          config.httpPort());
      b.awaitUnlessStopped(b.warmedUp.toCompletionStage()); // never fails, and ends within its budget
      KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka.clientConfig(
          EventConsumer.consumerConfig(b.bootstrapServers, config.consumerGroup(), MAX_POLL_RECORDS,
              config.shutdownGrace())));
      b.consumerMetrics = new KafkaClientMetrics(consumer);
      b.consumerMetrics.bindTo(registry);
      List<String> topics = new ArrayList<>(config.eventsTopics());
      topics.addAll(config.retryTopics());
      EventDecoder decoder = new EventDecoder(config.maxEventBytes(), config.retryTopics());
      dispatcher.start(new EventConsumer(consumer, topics, decoder, dispatcher, config.maxInFlightPerPartition(),
          RetryPolicy.from(config).longestWait()));
      b.dispatcher = dispatcher;
      b.started = true;
      return new Service(b);
    } catch (RuntimeException e) {
      b.stopPartial();
      throw e;
    }
  }

  /**
   * Creates the topics, waiting for an external Kafka as long as it takes: an instance started before its broker, or
   * during an outage, stays live and not ready, says why, and carries on once Kafka answers, instead of exiting into a
   * crash loop. An embedded broker has just started, so a failure there is final.
   */
  private static void awaitKafka(KafkaConnection kafka, Config config) {
    String bootstrapServers = kafka.bootstrapServers();
    for (int attempt = 1; ; attempt++) {
      Admin admin = null;
      try {
        admin = Admin.create(kafka.clientConfig(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers)));
        Topics.ensure(admin, config, KAFKA_ATTEMPT_TIMEOUT);
        return;
      } catch (IllegalStateException | KafkaException e) {
        if (config.embeddedKafka() || Thread.currentThread().isInterrupted()) {
          throw e;
        }
        LOG.error("Kafka at {} (KAFKA_BOOTSTRAP_SERVERS) cannot be reached or cannot create the topics; not ready,"
            + " retrying (attempt {}): {}", bootstrapServers, attempt, rootCause(e));
        try {
          Thread.sleep(KAFKA_RETRY_PAUSE.toMillis()); // on the start-up thread, never an event loop
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for Kafka at " + bootstrapServers, interrupted);
        }
      } finally {
        if (admin != null) {
          admin.close(Duration.ZERO); // a plain close would wait out the call that just timed out (60 s)
        }
      }
    }
  }

  /**
   * The server {@code listening} on {@code port} once it is; a port another process holds ends the start with a
   * message that names the port and the variable that sets it.
   */
  private static HttpServer bind(Future<HttpServer> listening, String variable, int port) {
    return await(listening.recover(failure -> Future.failedFuture(failure instanceof BindException taken
        ? new PortUnavailable(variable, port, taken)
        : failure)));
  }

  /** The innermost cause in words: a bare TimeoutException says more as what it means. */
  private static String rootCause(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    if (root instanceof java.util.concurrent.TimeoutException) {
      return "no answer within " + KAFKA_ATTEMPT_TIMEOUT.toMillis() + " ms";
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }

  /** Ready: every part has started, Kafka answers, the view is caught up, and no shutdown has begun. */
  public boolean isReady() {
    return ready.getAsBoolean();
  }

  /**
   * Stops taking work and drains: the API closes, fetching stops, deliveries in flight get {@code SHUTDOWN_GRACE_MS}
   * to finish, what is final is committed, then everything closes. What was not final stays uncommitted and is
   * delivered again by whoever consumes the partition next.
   */
  public void stop() {
    stopping.set(true);
    LOG.info("Shutting down: draining deliveries for up to {} ms", config.shutdownGrace().toMillis());
    awaitQuietly(apiServer.close(), "closing the API server");
    awaitQuietly(dispatcher.drain(config.shutdownGrace()), "draining the dispatcher");
    consumerMetrics.close();
    awaitQuietly(outbox.close(), "closing the outbox producer");
    awaitQuietly(store.close(), "closing the installation store");
    probe.close();
    awaitQuietly(managementServer.close(), "closing the management server");
    awaitQuietly(vertx.close(), "closing Vert.x");
    embedded.ifPresent(EmbeddedKafka::close);
    LOG.info("Stopped");
  }

  public Config config() {
    return config;
  }

  public Credentials credentials() {
    return credentials;
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public Optional<EmbeddedKafka> embeddedKafka() {
    return embedded;
  }

  public int httpPort() {
    return apiServer.actualPort();
  }

  public int managementPort() {
    return managementServer.actualPort();
  }

  private static PrometheusMeterRegistry registry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    return registry;
  }

  /**
   * Vert.x reporting its servers and worker pools into the same registry. Labels stay low-cardinality: the defaults
   * plus the local address, which tells the API server from the management server. Its HTTP client meters are off:
   * they built tags and looked meters up on every request (5% of the CPU under load), and the delivery meters of
   * {@link Metrics}, connections included, already say what they would.
   */
  private static Vertx vertx(PrometheusMeterRegistry registry) {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions().setEnabled(true).addLabels(Label.LOCAL)
        .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT);
    VertxOptions options = new VertxOptions().setMetricsOptions(metrics)
        .setAddressResolverOptions(HostResolver.resolverOptions());
    return Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry)).build();
  }

  private static <T> T await(Future<T> future) {
    return join(future.toCompletionStage());
  }

  private static <T> T join(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause);
    }
  }

  private static void awaitQuietly(Future<?> future, String what) {
    try {
      await(future);
    } catch (RuntimeException e) {
      LOG.warn("Failed {}", what, e);
    }
  }

  /** A stop was requested before the start finished; what had started is stopped. */
  public static final class StoppedWhileStarting extends RuntimeException {
    StoppedWhileStarting() {
      super("stopped while starting", null, false, false);
    }
  }

  /**
   * A port of the service cannot be bound; the message says which, what sets it, and what to do. Stackless and without
   * the {@link BindException}: the message is all there is to know, the cause's text included, and a port taken is an
   * operator's matter, not a stack trace's.
   */
  public static final class PortUnavailable extends IllegalStateException {
    PortUnavailable(String variable, int port, BindException cause) {
      super(message(variable, port, cause));
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }

    private static String message(String variable, int port, BindException cause) {
      String why = String.valueOf(cause.getMessage());
      return why.contains("in use")
          ? variable + " " + port + " is already in use (another dispatcher?); stop it or set " + variable
          : variable + " " + port + " cannot be bound (" + why + "); set " + variable + " to another port";
    }
  }

  /** What has been started so far, so a failed start stops exactly that. */
  private static final class Builder {
    final Config config;
    final CompletableFuture<Void> stopRequested;
    final AtomicBoolean stopping = new AtomicBoolean();
    volatile boolean started;
    Credentials credentials;
    Optional<EmbeddedKafka> embedded = Optional.empty();
    String bootstrapServers;
    Vertx vertx;
    InstallationStore store;
    KafkaOutbox outbox;
    KafkaProbe probe;
    KafkaClientMetrics consumerMetrics;
    Thread topicsThread;
    Future<WarmUp.Report> warmedUp;
    final Promise<Void> warmUpCutShort = Promise.promise();
    Dispatcher dispatcher;
    HttpServer managementServer;
    HttpServer apiServer;

    Builder(Config config, CompletableFuture<Void> stopRequested) {
      this.config = config;
      this.stopRequested = stopRequested;
    }

    /** Waits for {@code stage}, or for a stop requested first, which ends the start. */
    <T> T awaitUnlessStopped(CompletionStage<T> stage) {
      CompletableFuture<T> result = stage.toCompletableFuture();
      CompletableFuture.anyOf(result, stopRequested).handle((done, failure) -> null).join();
      if (stopRequested.isDone() && !result.isCompletedExceptionally()) { // a failure is reported, not taken for a stop
        throw new StoppedWhileStarting();
      }
      return join(result);
    }

    /**
     * Ready: every part has started, Kafka answers, the view is caught up, events are being consumed (the polling
     * thread has not died), and no shutdown has begun.
     */
    boolean isReady() {
      return started && !stopping.get() && probe.reachable() && store.isCaughtUp() && dispatcher.isConsuming();
    }

    void stopPartial() {
      if (topicsThread != null) {
        topicsThread.interrupt(); // it may still be waiting for an external Kafka
      }
      if (dispatcher != null) {
        awaitQuietly(dispatcher.drain(Duration.ZERO), "stopping the dispatcher");
      }
      if (outbox != null) {
        awaitQuietly(outbox.close(), "closing the outbox producer");
      }
      if (store != null) {
        awaitQuietly(store.close(), "closing the installation store");
      }
      if (probe != null) {
        probe.close();
      }
      if (warmedUp != null) { // its tasks must end before Vert.x closes, or they fail on a closed event loop
        warmUpCutShort.tryComplete();
        awaitQuietly(warmedUp, "ending the warm-up");
      }
      if (vertx != null) {
        awaitQuietly(vertx.close(), "closing Vert.x");
      }
      embedded.ifPresent(EmbeddedKafka::close);
    }
  }
}
