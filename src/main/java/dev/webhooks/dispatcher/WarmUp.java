package dev.webhooks.dispatcher;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.delivery.Courier;
import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.delivery.DeliveryListener;
import dev.webhooks.dispatcher.delivery.DeliveryOutcome;
import dev.webhooks.dispatcher.delivery.HostResolver;
import dev.webhooks.dispatcher.delivery.Outbox;
import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.delivery.TlsEngine;
import dev.webhooks.dispatcher.install.Header;
import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.InstallationView;
import dev.webhooks.dispatcher.install.Webhook;
import dev.webhooks.dispatcher.install.WebhookKeys;
import dev.webhooks.dispatcher.intake.Decoded;
import dev.webhooks.dispatcher.intake.EventDecoder;
import dev.webhooks.dispatcher.routing.Router;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.KeyCertOptions;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the delivery path, from a record's bytes to an answered POST, against a receiver of its own before the service
 * takes events, so the first real events meet loaded classes, compiled code and a started TLS stack instead of a cold
 * JVM (load-tests/README.md, "Round 5"). Nothing leaves the process's host: the receiver listens on the loopback
 * address with a certificate made for it and trusted by the warm-up alone, the deliveries go to installations of
 * its own, and what would become a retry or a dead letter is dropped. It never fails: a warm-up that cannot run is
 * logged and skipped, and it stops at its deadline whatever it has done.
 */
final class WarmUp {
  private static final Logger LOG = LoggerFactory.getLogger(WarmUp.class);
  private static final String ACCOUNT = "warm-up";
  /** Apps on the warm-up account, each with every webhook: every record routes to this many deliveries. */
  private static final int APPS = 4;
  /** Records in flight at once: enough to use the connection pool as real traffic does. */
  private static final int CONCURRENCY = 16;
  /** Beyond the budget, for what the warm-up cannot cut short (making the certificate, closing). */
  private static final Duration SLACK = Duration.ofSeconds(5);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  /** Text of about 800 bytes, non-ASCII included, so a sample is about the size of a real event. */
  private static final String TEXT = "Hello, I would like to change my booking \u00e9\u2713 ".repeat(18);
  /** What would be retried or dead-lettered is dropped: these deliveries are the warm-up's own. */
  private static final Outbox DROPPED = new Outbox() {
    @Override
    public Future<Void> deadLetter(DeadLetter deadLetter) {
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> retry(Retry retry, int tier) {
      return Future.succeededFuture();
    }
  };

  /** What a warm-up did: records decoded and routed, deliveries answered, attempts that failed, time taken. */
  record Report(int records, int delivered, int failed, Duration took) {}

  private final Vertx vertx;
  private final Config config;
  private final Duration budget;
  private final Context context;
  /**
   * The receiver's: one event loop without metrics, so it shows in no dashboard and works beside the deliveries as a
   * receiver elsewhere would. Made here, off any event loop, as Vert.x wants.
   */
  private final Vertx receiving = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
  private final long startNanos = System.nanoTime();
  private final AtomicInteger records = new AtomicInteger();
  private final AtomicInteger delivered = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private volatile String firstFailure = "";
  private volatile long deadlineNanos;
  /** Set when the start it belongs to ends early: no more records are begun. */
  private volatile boolean cutShort;

  private WarmUp(Vertx vertx, Config config, Duration budget) {
    this.vertx = vertx;
    this.config = config;
    this.budget = budget;
    this.context = vertx.getOrCreateContext();
  }

  /**
   * Makes the loopback receiver, then runs the delivery path against it for {@code budget} on an event loop of {@code
   * vertx}. The future always succeeds, with what was done, at the latest {@link #SLACK} after the budget.
   */
  static Future<Report> run(Vertx vertx, Config config, Duration budget) {
    return run(vertx, config, budget, Promise.<Void>promise().future());
  }

  /**
   * As {@link #run(Vertx, Config, Duration)}, but once {@code cutShort} completes no more records are begun: the
   * future then completes as soon as the parts already made (the certificate, the receiver) are closed, so a failed
   * start can wait for it before it closes {@code vertx}, and no task of the warm-up runs into a closed Vert.x.
   */
  static Future<Report> run(Vertx vertx, Config config, Duration budget, Future<?> cutShort) {
    if (budget.isZero()) {
      return Future.succeededFuture(new Report(0, 0, 0, Duration.ZERO));
    }
    WarmUp warmUp = new WarmUp(vertx, config, budget);
    cutShort.onComplete(ended -> warmUp.cutShort = true);
    Promise<Void> done = Promise.promise();
    warmUp.context.runOnContext(v -> warmUp.run().onComplete(done));
    return done.future()
        .timeout(budget.plus(SLACK).toMillis(), TimeUnit.MILLISECONDS)
        .transform(outcome -> Future.succeededFuture(warmUp.report(outcome.cause())))
        .onSuccess(warmUp::log)
        .onSuccess(report -> warmUp.receiving.close()); // closed already, unless it timed out
  }

  private Future<Void> run() {
    return vertx.executeBlocking(this::prepare, false).compose(this::serveAndExercise);
  }

  /** The receiver's key and certificate, and a courier that trusts it. */
  private record Parts(KeyCertOptions receiverKey, Courier courier) {}

  /**
   * Makes the certificate and the courier on a worker thread: a key pair and a key store for the receiver, and a trust
   * store read from the JDK's CAs plus the certificate, which the courier's settings take as a file, deleted once read.
   */
  private Parts prepare() throws IOException {
    LoopbackCertificate certificate = LoopbackCertificate.create();
    Path file = Files.createTempFile("webhook-loopback-", ".pem");
    try {
      Files.writeString(file, certificate.certificatePem(), StandardCharsets.US_ASCII);
      Config trusting = config.withDeliveryTrust(Optional.of(file), true);
      HostResolver loopback = host -> Future.succeededFuture(List.of(LOOPBACK));
      return new Parts(
          certificate.keyCertOptions(), Courier.create(vertx, trusting, loopback, DROPPED, counting()));
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private Future<Void> serveAndExercise(Parts parts) {
    return back(listen(parts.receiverKey()))
        .compose(receiver -> exercise(parts.courier(), receiver.actualPort()))
        .eventually(parts.courier()::close)
        .eventually(receiving::close);
  }

  /** {@code elsewhere}'s result, on the warm-up's event loop: the receiver's Vert.x completes on its own. */
  private <T> Future<T> back(Future<T> elsewhere) {
    Promise<T> here = Promise.promise();
    elsewhere.onComplete(result -> context.runOnContext(v -> here.handle(result)));
    return here.future();
  }

  /** An HTTPS receiver on the loopback address that reads each body and answers 200. */
  private Future<HttpServer> listen(KeyCertOptions key) {
    HttpServerOptions options = new HttpServerOptions()
        .setSsl(true)
        .setKeyCertOptions(key)
        .setSslEngineOptions(TlsEngine.choose(config.nativeTls()))
        .setHost(LOOPBACK.getHostAddress())
        .setPort(0);
    return receiving.createHttpServer(options).requestHandler(WarmUp::answer).listen();
  }

  private static void answer(HttpServerRequest request) {
    request.body().onComplete(body -> request.response().setStatusCode(200).end());
  }

  /**
   * Decodes, routes and delivers the sample records, {@link #CONCURRENCY} at a time, until the deadline, through a
   * courier of its own that trusts the receiver's certificate and drops what would be retried or dead-lettered.
   */
  private Future<Void> exercise(Courier courier, int port) {
    deadlineNanos = System.nanoTime() + budget.toNanos();
    // the samples' own size limit: MAX_EVENT_BYTES may be set below them
    Round round = new Round(
        courier, new Router(installations(port)), new EventDecoder(Integer.MAX_VALUE), samples(config));
    List<Future<Void>> loops = new ArrayList<>(CONCURRENCY);
    for (int i = 0; i < CONCURRENCY; i++) {
      Promise<Void> finished = Promise.promise();
      round.next(i, finished);
      loops.add(finished.future());
    }
    return Future.join(loops).mapEmpty();
  }

  /** One warm-up's parts; each of the {@link #CONCURRENCY} loops takes every {@code CONCURRENCY}-th sample. */
  private final class Round {
    private final Courier courier;
    private final Router router;
    private final EventDecoder decoder;
    private final List<ConsumerRecord<byte[], byte[]>> samples;

    Round(Courier courier, Router router, EventDecoder decoder, List<ConsumerRecord<byte[], byte[]>> samples) {
      this.courier = courier;
      this.router = router;
      this.decoder = decoder;
      this.samples = samples;
    }

    void next(int sample, Promise<Void> finished) {
      if (cutShort || System.nanoTime() >= deadlineNanos) {
        finished.complete();
        return;
      }
      records.incrementAndGet();
      Decoded decoded = decoder.decode(samples.get(sample % samples.size()));
      if (!(decoded instanceof Decoded.Accepted accepted)) {
        finished.fail("a warm-up sample was not accepted: " + decoded);
        return;
      }
      List<Future<Void>> deliveries = new ArrayList<>(APPS);
      for (Delivery delivery : router.route(accepted.event())) {
        deliveries.add(courier.deliver(delivery));
      }
      Future.join(deliveries).onComplete(all -> {
        if (all.failed()) { // the courier was closed
          finished.fail(all.cause());
        } else { // a fresh stack for each record: a refused attempt completes at once
          context.runOnContext(v -> next(sample + CONCURRENCY, finished));
        }
      });
    }
  }

  private DeliveryListener counting() {
    return new DeliveryListener() {
      @Override
      public void attempted(Delivery delivery, int attempt, DeliveryOutcome outcome, Duration took) {
        if (!(outcome instanceof DeliveryOutcome.Delivered)) {
          failed.incrementAndGet();
          if (firstFailure.isEmpty()) {
            firstFailure = outcome.toString();
          }
        }
      }

      @Override
      public void deferred(Delivery delivery, int attempt, int deferral, DeliveryOutcome heldBack) {
        attempted(delivery, attempt, heldBack, Duration.ZERO); // no warm-up attempt should wait in vain
      }

      @Override
      public void delivered(Delivery delivery, int attempts) {
        delivered.incrementAndGet();
      }
    };
  }

  /** {@link #APPS} enabled apps on the warm-up account, each with every webhook, two headers and two secrets. */
  private static InstallationView installations(int port) {
    List<Installation> apps = new ArrayList<>(APPS);
    for (int app = 0; app < APPS; app++) {
      String clientId = "warm-up-app-" + app;
      Map<String, Webhook> webhooks = WebhookKeys.ALL.stream().collect(Collectors.toMap(key -> key, key -> new Webhook(
          "https://localhost:" + port + "/" + clientId + "/" + key + "?warm-up=true", 0,
          List.of(new Header("X-Warm-Up", "true"), new Header("Authorization", "Bearer warm-up")))));
      apps.add(new Installation(clientId, ACCOUNT, true, webhooks, List.of("warm-up-secret", "warm-up-old-secret"),
          JsonNodeFactory.instance.objectNode(), 0, "1"));
    }
    return new InstallationView() {
      @Override
      public List<Installation> installationsOf(String accountId) {
        return accountId.equals(ACCOUNT) ? apps : List.of();
      }

      @Override
      public Optional<Installation> find(String installationId) {
        return apps.stream().filter(app -> app.id().equals(installationId)).findFirst();
      }
    };
  }

  /** A record of each event type, about 1 KB each, on the first events topic. */
  private static List<ConsumerRecord<byte[], byte[]>> samples(Config config) {
    List<String> events = List.of(
        messaging("{\"type\":\"ContentEvent\",\"message\":\"" + TEXT + "\",\"contentType\":\"text/plain\"}"),
        messaging("{\"type\":\"RichContentEvent\",\"content\":{\"type\":\"vertical\",\"elements\":"
            + "[{\"type\":\"text\",\"text\":\"" + TEXT + "\"},{\"type\":\"button\",\"title\":\"Yes\"}]}}"),
        messaging("{\"type\":\"AcceptStatusEvent\",\"status\":\"READ\",\"sequenceList\":[0,1,2]}"),
        messaging("{\"type\":\"ChatStateEvent\",\"chatState\":\"COMPOSING\"}"),
        "{\"kind\":\"notification\",\"body\":{\"changes\":[{\"type\":\"UPSERT\",\"result\":{\"convId\":\"warm-up\","
            + "\"conversationDetails\":{\"participants\":[{\"id\":\"p1\",\"role\":\"CONSUMER\"}],\"state\":\"OPEN\","
            + "\"note\":\"" + TEXT + "\"}}}]},\"type\":\"" + WebhookKeys.CONVERSATION_CHANGE + "\"}");
    String topic = config.eventsTopics().get(0);
    List<ConsumerRecord<byte[], byte[]>> samples = new ArrayList<>(events.size());
    for (int offset = 0; offset < events.size(); offset++) {
      RecordHeaders headers = new RecordHeaders();
      headers.add(EventDecoder.ACCOUNT_HEADER, ACCOUNT.getBytes(StandardCharsets.UTF_8));
      byte[] value = events.get(offset).getBytes(StandardCharsets.UTF_8);
      samples.add(new ConsumerRecord<>(topic, 0, offset, System.currentTimeMillis(), TimestampType.CREATE_TIME,
          0, value.length, null, value, headers, Optional.empty()));
    }
    return samples;
  }

  private static String messaging(String event) {
    return "{\"kind\":\"notification\",\"body\":{\"changes\":[{\"sequence\":39,\"originatorId\":\"warm-up\","
        + "\"serverTimestamp\":1641916856713,\"event\":" + event + ",\"conversationId\":\"warm-up\","
        + "\"dialogId\":\"warm-up\"}]},\"type\":\"ms.MessagingEventNotification\"}";
  }

  private Report report(Throwable failure) {
    if (failure != null && firstFailure.isEmpty()) {
      firstFailure = failure.toString();
    }
    return new Report(records.get(), delivered.get(), failed.get(), Duration.ofNanos(System.nanoTime() - startNanos));
  }

  private void log(Report report) {
    if (cutShort) {
      LOG.info("The warm-up of the delivery path was cut short after {} ms: the start ended",
          report.took().toMillis());
      return;
    }
    if (report.failed() > 0 || !firstFailure.isEmpty()) {
      LOG.warn("The warm-up of the delivery path failed or was cut short ({} failed attempts), which costs only speed"
          + " in the first seconds: {}", report.failed(), firstFailure);
    }
    LOG.info("Warmed up the delivery path in {} ms: {} records, {} deliveries to a loopback receiver",
        report.took().toMillis(), report.records(), report.delivered());
  }
}
