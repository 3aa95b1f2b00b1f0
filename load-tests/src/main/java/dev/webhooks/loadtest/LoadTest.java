package dev.webhooks.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Runs one scenario against the dispatcher (the built jar, its own JVM) and then the baseline (its own JVM), each on
 * a fresh broker JVM, with the same receivers, apps, events and JVM flags; prints a table and writes
 * {@code results/SCENARIO.json}.
 *
 * <p>Usage: {@code LoadTest SCENARIO [--duration S] [--rate N] [--events N] [--systems dispatcher,baseline]
 * [--jar PATH] [--results DIR] [--drain S] [--dispatcher-env K=V,K=V] [--warmup S] [--warm-receivers S]
 * [--witness 1]}.
 */
public final class LoadTest {
  /**
   * The same for both systems; LOAD_JVM_FLAGS (space-separated) replaces them for an exploratory run. A fixed 256 MiB
   * heap, as the dispatcher's live set under load is about 50 MiB and the backlog target caps RSS at 512 MiB; the
   * parallel collector, which cost the dispatcher 14% less CPU than G1 on 2 cores; and 160 MiB of it young, as with
   * the default third (shrunk to about 40 MiB of eden) the records in flight were promoted and collected again in a
   * full collection every 1.2 s (load-tests/README.md, "Round 7").
   */
  static final List<String> SYSTEM_JVM_FLAGS = System.getenv("LOAD_JVM_FLAGS") == null
      ? List.of("-Xms256m", "-Xmx256m", "-Xmn160m", "-XX:+UseParallelGC")
      : List.of(System.getenv("LOAD_JVM_FLAGS").trim().split("\\s+"));
  private static final String ADMIN_TOKEN = "load-test-admin-token";
  /** --warmup: this many events per second before the measured load; counted for loss, not for latency or rate. */
  static final int WARMUP_RATE = 500;
  /** A second of the load whose worst latency passed this is logged with the producer's lateness then. */
  private static final double SLOW_SECOND_MS = 250;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Scenario scenario;
  private final Path jar;
  private final String ownClasspath;
  private final Path workDir;
  /** Long enough for the receivers' JIT to settle: both systems then meet equally warm receivers. */
  private static final int DEFAULT_RECEIVER_WARMUP_S = 20;
  private final int drainSeconds;
  private final List<Workload.App> apps;
  private final Receivers receivers;
  private final Map<String, String> dispatcherEnv;
  private final int warmupSeconds;
  /** --witness 1: a consumer of the harness's own times the broker's side of each second ({@link Witness}). */
  private final boolean witnessed;

  private LoadTest(Scenario scenario, Path jar, Path workDir, int drainSeconds, Receivers receivers,
      Map<String, String> dispatcherEnv, int warmupSeconds, boolean witnessed) throws Exception {
    this.scenario = scenario;
    this.jar = jar;
    this.ownClasspath = System.getProperty("java.class.path");
    this.workDir = workDir;
    this.drainSeconds = drainSeconds;
    this.apps = Workload.apps(scenario);
    this.receivers = receivers;
    this.dispatcherEnv = dispatcherEnv;
    this.warmupSeconds = warmupSeconds;
    this.witnessed = witnessed;
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || !Scenario.NAMES.contains(args[0])) {
      System.err.println("usage: LoadTest SCENARIO [--duration SECONDS] [--rate N] [--events N] [--systems LIST] "
          + "[--drain SECONDS]; SCENARIO one of " + Scenario.NAMES);
      System.exit(2);
    }
    Scenario scenario = Scenario.named(args[0]);
    Map<String, String> options = new HashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      options.put(args[i], args[i + 1]);
    }
    if (options.containsKey("--duration")) {
      scenario = scenario.withDuration(Integer.parseInt(options.get("--duration")));
    }
    if (options.containsKey("--rate")) {
      scenario = scenario.withRate(Integer.parseInt(options.get("--rate")));
    }
    if (options.containsKey("--events")) {
      scenario = scenario.withBacklog(Integer.parseInt(options.get("--events")));
    }
    Path jar = Path.of(options.getOrDefault("--jar", "../target/webhook-dispatcher.jar")).toAbsolutePath();
    Path results = Path.of(options.getOrDefault("--results", "results")).toAbsolutePath();
    int drain = Integer.parseInt(options.getOrDefault("--drain",
        scenario.name().equals("smoke") ? "30" : scenario.name().equals("backlog") ? "600" : "120"));
    List<String> systems = List.of(options.getOrDefault("--systems", "dispatcher,baseline").split(","));
    int warmup = Integer.parseInt(options.getOrDefault("--warmup", "0"));
    Path work = Path.of("target", "runs", scenario.name() + "-" + System.currentTimeMillis()).toAbsolutePath();

    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    ArrayNode out = JSON.createArrayNode();
    boolean anyLost = false;
    try (Receivers receivers = new Receivers(vertx, scenario, Workload.apps(scenario))) {
      receivers.start();
      // warm receivers by default, so the first system does not meet cold ones and the second warm ones; the smoke
      // scenario runs in CI, where it only checks that nothing is lost
      int warmReceivers = Integer.parseInt(options.getOrDefault("--warm-receivers",
          scenario.name().equals("smoke") ? "0" : String.valueOf(DEFAULT_RECEIVER_WARMUP_S)));
      if (warmReceivers > 0) {
        Tally warm = receivers.warmUp(warmReceivers);
        log("receivers warmed up: %,d requests in %d s, %,d answered 200, %,d signatures checked, %,d bad",
            warm.requests.sum(), warmReceivers, warm.delivered.sum(), warm.signaturesChecked.sum(),
            warm.badSignatures.sum());
      }
      Map<String, String> dispatcherEnv = new HashMap<>();
      for (String pair : options.getOrDefault("--dispatcher-env", "").split(",")) {
        if (pair.contains("=")) {
          dispatcherEnv.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
        }
      }
      LoadTest test = new LoadTest(scenario, jar, work, drain, receivers, dispatcherEnv, warmup,
          options.getOrDefault("--witness", "0").equals("1"));
      for (String system : systems) {
        ObjectNode result = test.run(system);
        out.add(result);
        anyLost |= result.get("lost").asLong() > 0;
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    Files.createDirectories(results);
    Path file = results.resolve(scenario.name() + ".json");
    Optional<List<Targets.Verdict>> verdicts = judge(scenario, out, results);
    JSON.writeValue(file.toFile(), out);
    System.out.println();
    System.out.print(table(out));
    verdicts.ifPresent(v -> System.out.print(Targets.lines(v)));
    System.out.println("Wrote " + file + "  (logs in " + work + ")");
    System.exit(anyLost ? 1 : 0);
  }

  private ObjectNode run(String system) throws Exception {
    Path dir = workDir.resolve(system);
    log("%s: starting a fresh broker", system);
    try (ChildJvm broker = ChildJvm.start("broker", List.of("-Xmx512m", "-cp", ownClasspath),
        List.of(BrokerMain.class.getName(), dir.resolve("kafka").toString()), Map.of(), dir.resolve("broker.log"))) {
      String bootstrap = broker.awaitLine("BOOTSTRAP ", 90_000);
      try (KafkaSide kafka = new KafkaSide(bootstrap)) {
        kafka.createTopics();
        return measure(system, dir, kafka, broker);
      } finally {
        broker.stop(15_000);
        deleteTree(dir.resolve("kafka"));
      }
    }
  }

  private ObjectNode measure(String system, Path dir, KafkaSide kafka, ChildJvm broker) throws Exception {
    Tally tally = new Tally(capacity());
    receivers.countInto(tally);
    int[] ports = Ports.free(2);
    int httpPort = ports[0];
    int managementPort = ports[1];
    Map<String, String> env = environment(system, dir, kafka, httpPort, managementPort);
    if (system.equals("dispatcher")) {
      // installations live in Kafka: install through the API first, so events never meet a dispatcher without apps
      try (ChildJvm setup = startSystem(system, env, dir.resolve("dispatcher-install.log"))) {
        double ready = awaitReady(setup, managementPort);
        long t = System.nanoTime();
        Installer.install(httpPort, ADMIN_TOKEN, apps, receivers::url);
        log("dispatcher: %d apps installed through the App Install API in %.1f s", apps.size(), secondsSince(t));
        if (scenario.backlogEvents() == 0) {
          return drive(system, setup, tally, kafka, broker, ready);
        }
        setup.stop(30_000);
      }
    } else {
      Installer.writeRoutes(dir.resolve("routes.json"), apps, receivers::url);
    }
    try (Producer producer = new Producer(kafka.bootstrap, kafka.events, capacity())) {
      long t = System.nanoTime();
      producer.backlog(scenario.backlogEvents());
      log("%s: %,d events waiting in Kafka (written in %.1f s)", system, producer.acked.sum(), secondsSince(t));
      try (ChildJvm sut = startSystem(system, env, dir.resolve(system + ".log"))) {
        double ready = awaitReady(sut, managementPort);
        return drive(system, sut, tally, kafka, broker, ready, producer);
      }
    }
  }

  private ObjectNode drive(String system, ChildJvm sut, Tally tally, KafkaSide kafka, ChildJvm broker,
      double startToReady) throws Exception {
    try (Producer producer = new Producer(kafka.bootstrap, kafka.events, capacity())) {
      return drive(system, sut, tally, kafka, broker, startToReady, producer);
    }
  }

  /**
   * Waits, up to the drain limit, until every event is delivered or dead-lettered: the broken endpoints' deliveries
   * take their whole retry schedule (about a minute) to reach their dead letters, after the healthy ones are done.
   */
  private void followToTheEnd(String system, Producer producer, Tally tally, KafkaSide kafka, long producedAt)
      throws Exception {
    while (secondsSince(producedAt) < drainSeconds) {
      BitSet deadLettered = kafka.deadLetteredEvents();
      int open = 0;
      for (int seq = 0; seq < producer.produced(); seq++) {
        if (producer.offset[seq] >= 0 && !tally.delivered(seq) && !deadLettered.get(seq)) {
          open++;
        }
      }
      if (open == 0) {
        return;
      }
      log("%s: %,d events neither delivered nor dead-lettered yet", system, open);
      Thread.sleep(5_000);
    }
  }

  /** Offers the load, waits for the drain, stops the system and counts. */
  private ObjectNode drive(String system, ChildJvm sut, Tally tally, KafkaSide kafka, ChildJvm broker,
      double startToReady, Producer producer) throws Exception {
    long healthyBefore = 0;
    if (warmupSeconds > 0 && scenario.ratePerSecond() > 0) {
      log("%s: warming up at %d events/s for %d s", system, WARMUP_RATE, warmupSeconds);
      producer.offer(WARMUP_RATE, warmupSeconds);
      long t = System.nanoTime();
      while (tally.delivered.sum() < producer.acked.sum() && secondsSince(t) < 30) {
        Thread.sleep(100);
      }
      healthyBefore = tally.healthyDelivered.sum();
      tally.forgetTheWarmUp();
      log("%s: warm-up done (%,d delivered); measuring from now", system, healthyBefore);
    }
    double cpu0 = sut.cpuSeconds();
    double brokerCpu0 = broker.cpuSeconds();
    long start = System.nanoTime();
    tally.steadyFromNanos = start + scenario.durationSeconds() * 500_000_000L;
    ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor();
    watcher.scheduleAtFixedRate(kafka::watchCommits, 1, 1, TimeUnit.SECONDS);
    long[] previous = {0};
    double[] peak = {0};
    watcher.scheduleAtFixedRate(() -> {
      long delivered = tally.delivered.sum();
      peak[0] = Math.max(peak[0], (delivered - previous[0]) / 5.0);
      previous[0] = delivered;
      log("%s: %,d produced, %,d delivered, %,d retries, %,d duplicates", system, producer.acked.sum(), delivered,
          tally.retries.sum(), tally.duplicates.sum());
    }, 5, 5, TimeUnit.SECONDS);
    Optional<Witness> witness = witnessed && scenario.ratePerSecond() > 0
        ? Optional.of(new Witness(kafka.bootstrap, kafka.events)) : Optional.empty();
    int loadFrom = producer.produced(); // the first event of the load: the warm-up's come before it
    try {
      if (scenario.ratePerSecond() > 0) {
        log("%s: offering %,d events/s for %d s", system, scenario.ratePerSecond(), scenario.durationSeconds());
        tally.loadStarts(start, scenario.durationSeconds());
        witness.ifPresent(w -> w.loadStarts(System.currentTimeMillis(), scenario.durationSeconds()));
        producer.offer(scenario.ratePerSecond(), scenario.durationSeconds());
      }
      long producedAt = System.nanoTime();
      int produced = producer.produced();
      long healthyExpected = 0;
      for (int seq = 0; seq < produced; seq++) {
        if (producer.offset[seq] >= 0 && scenario.healthy(apps.get(producer.app[seq]).endpoint())) {
          healthyExpected++;
        }
      }
      // drain: until every healthy delivery arrived (broken endpoints cannot finish their retries inside a run),
      // or the drain limit, or nothing new arrived for 30 s once requests had begun (a system that has not sent
      // anything yet may still be starting: the dispatcher once took 35 s to open its first connections)
      long lastCount = tally.requests.sum();
      long lastProgress = System.nanoTime();
      while (tally.healthyDelivered.sum() < healthyExpected && secondsSince(producedAt) < drainSeconds
          && (lastCount == 0 || secondsSince(lastProgress) < 30)) {
        Thread.sleep(100);
        long count = tally.requests.sum();
        if (count != lastCount) {
          lastCount = count;
          lastProgress = System.nanoTime();
        }
      }
      if (!scenario.blackholed().isEmpty() || !scenario.answerAfter6s().isEmpty()) {
        followToTheEnd(system, producer, tally, kafka, producedAt);
      } else if (scenario.errorRate() > 0) {
        Thread.sleep(1_000); // let the last dead letters (if any) be written before counting them
      }
    } finally {
      watcher.shutdownNow();
      if (witness.isPresent()) {
        witness.get().close();
      }
    }
    double cpu = sut.cpuSeconds() - cpu0;
    double brokerCpu = broker.cpuSeconds() - brokerCpu0;
    double rss = sut.peakRssMb();
    double window = secondsSince(start);
    int exit = sut.stop(30_000);
    log("%s: stopped (exit %d)", system, exit);

    Map<Integer, Long> committed = kafka.committed();
    BitSet deadLettered = kafka.deadLetteredEvents();
    BitSet waitingRetry = kafka.waitingRetryEvents();
    long lost = 0;
    long unfinished = 0;
    long waitingRetries = 0;
    long deadLetters = 0;
    for (int seq = 0; seq < producer.produced(); seq++) {
      if (producer.offset[seq] < 0) {
        continue; // the broker refused it: counted as producer errors, never offered
      }
      if (tally.delivered(seq)) {
        continue;
      }
      if (deadLettered.get(seq)) {
        deadLetters++;
      } else if (waitingRetry.get(seq)) {
        waitingRetries++; // committed, its delivery durably waiting in the retry topic for its next attempt
      } else if (producer.offset[seq] < committed.getOrDefault((int) producer.partition[seq], 0L)) {
        lost++; // committed, yet neither delivered nor dead-lettered
      } else {
        unfinished++; // not committed: would be redelivered after a restart
      }
    }
    Histogram h = tally.healthyLatency;
    long deliveries = tally.healthyDelivered.sum() - healthyBefore;
    double deliverySeconds = scenario.ratePerSecond() > 0
        ? (tally.lastHealthyDeliveryNanos.get() - start) / 1e9
        : (tally.lastDeliveryNanos.get() - tally.firstDeliveryNanos.get()) / 1e9;
    ObjectNode r = JSON.createObjectNode();
    r.put("system", system);
    r.put("scenario", scenario.name());
    r.put("offered_per_s", scenario.ratePerSecond());
    r.put("delivered_per_s", deliveries == 0 ? 0 : Math.round(deliveries / Math.max(deliverySeconds, 1e-3)));
    ObjectNode latency = r.putObject("latency_ms");
    latency.put("p50", ms(h.getValueAtPercentile(50)));
    latency.put("p90", ms(h.getValueAtPercentile(90)));
    latency.put("p99", ms(h.getValueAtPercentile(99)));
    latency.put("p999", ms(h.getValueAtPercentile(99.9)));
    latency.put("max", ms(h.getMaxValue()));
    Histogram steady = tally.steadyLatency;
    ObjectNode steadyMs = r.putObject("steady_latency_ms"); // events due in the second half of the load only
    steadyMs.put("count", steady.getTotalCount());
    steadyMs.put("p50", ms(steady.getValueAtPercentile(50)));
    steadyMs.put("p99", ms(steady.getValueAtPercentile(99)));
    steadyMs.put("max", ms(steady.getMaxValue()));
    endpoints(r, tally, producer, loadFrom, start, deliverySeconds);
    r.put("lost", lost);
    r.put("duplicates", tally.duplicates.sum());
    r.put("dead_letters", deadLetters);
    r.put("cpu_s", round(cpu));
    r.put("rss_mb", round(rss));
    // beyond the fields: what a reader needs to trust or question the row
    r.put("events", producer.acked.sum());
    r.put("producer_errors", producer.failed.sum());
    r.put("backlog_events", scenario.backlogEvents());
    r.put("delivered", tally.delivered.sum());
    r.put("healthy_delivered", deliveries);
    r.put("unfinished", unfinished);
    r.put("waiting_retries", waitingRetries);
    r.put("retries", tally.retries.sum());
    r.put("requests", tally.requests.sum());
    r.put("signatures_checked", tally.signaturesChecked.sum());
    r.put("bad_signatures", tally.badSignatures.sum());
    // the best 5 s of the run: what the system does once warm, next to the whole-run average above
    r.put("peak_delivered_per_s_5s", Math.round(peak[0]));
    r.put("warmup_s", warmupSeconds);
    r.put("max_commit_stall_s", round(kafka.maxCommitStallSeconds()));
    r.put("start_to_ready_s", round(startToReady));
    r.put("window_s", round(window));
    r.put("broker_cpu_s", round(brokerCpu));
    r.put("exit_code", exit);
    r.put("jvm_flags", String.join(" ", SYSTEM_JVM_FLAGS));
    if (system.equals("dispatcher") && !dispatcherEnv.isEmpty()) {
      r.put("dispatcher_env", dispatcherEnv.toString());
    }
    r.put("receiver_connections", tally.connections.sum());
    timeline(system, r, tally.worstMicrosBySecond(), producer.lateMicrosBySecond(), producer.ackedMicrosBySecond(),
        tally.connectionsBySecond(), witness.map(Witness::worstMillisBySecond).orElse(new long[0]));
    r.put("finished_at", Instant.now().toString());
    log("%s: %s", system, r.toString());
    return r;
  }

  /**
   * Each healthy endpoint's deliveries/s and latency, and the least and worst of them: the isolation targets hold for
   * every healthy endpoint, not only for their sum. Under an offered rate an endpoint's deliveries/s is counted as the
   * whole's is, to its last delivery, and set against the events of the load that were due to it (its share of a
   * random draw, not exactly a twentieth); a backlog's over the whole's delivery window.
   */
  private void endpoints(
      ObjectNode r, Tally tally, Producer producer, int loadFrom, long start, double deliverySeconds) {
    long[] due = new long[Workload.ENDPOINTS];
    for (int seq = loadFrom; seq < producer.produced(); seq++) {
      if (producer.offset[seq] >= 0) {
        due[apps.get(producer.app[seq]).endpoint()]++;
      }
    }
    ArrayNode endpoints = r.putArray("healthy_endpoints");
    double least = Double.MAX_VALUE;
    double worst = 0;
    for (int endpoint = 0; endpoint < Workload.ENDPOINTS; endpoint++) {
      if (!scenario.healthy(endpoint)) {
        continue;
      }
      long delivered = tally.endpointDelivered(endpoint);
      double seconds = scenario.ratePerSecond() > 0
          ? (tally.endpointLastNanos(endpoint) - start) / 1e9
          : deliverySeconds;
      double perSecond = delivered == 0 ? 0 : delivered / Math.max(seconds, 1e-3);
      Histogram h = tally.endpointLatency(endpoint);
      double p99 = ms(h.getValueAtPercentile(99));
      ObjectNode e = endpoints.addObject();
      e.put("endpoint", endpoint);
      e.put("due", due[endpoint]);
      e.put("delivered", delivered);
      e.put("delivered_per_s", round(perSecond));
      e.put("p99_ms", p99);
      e.put("max_ms", ms(h.getMaxValue()));
      if (scenario.ratePerSecond() > 0 && due[endpoint] > 0) {
        double share = perSecond / (due[endpoint] / (double) scenario.durationSeconds());
        e.put("share_of_its_rate", Math.round(share * 1000) / 1000.0);
        least = Math.min(least, share);
      }
      worst = Math.max(worst, p99);
    }
    if (least != Double.MAX_VALUE) {
      r.put("least_endpoint_share_of_its_rate", Math.round(least * 1000) / 1000.0);
    }
    r.put("worst_endpoint_p99_ms", worst);
  }

  /** Events one run can produce: the scenario's, plus the warm-up's. */
  private int capacity() {
    return scenario.capacity() + WARMUP_RATE * warmupSeconds;
  }

  private ChildJvm startSystem(String system, Map<String, String> env, Path log) {
    List<String> main = system.equals("dispatcher")
        ? List.of("-jar", jar.toString())
        : List.of("-cp", ownClasspath, BaselineMain.class.getName());
    List<String> flags = new java.util.ArrayList<>(SYSTEM_JVM_FLAGS);
    if ("1".equals(System.getenv("LOAD_JFR"))) {
      // a profile of each system run, next to its log (adds a little CPU; not for the numbers of record)
      flags.add("-XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
          + log.resolveSibling(log.getFileName().toString().replace(".log", ".jfr")));
    }
    return ChildJvm.start(system, flags, main, env, log);
  }

  /** Seconds from now until the system reports ready (the dispatcher's /health/ready, the baseline's READY line). */
  private double awaitReady(ChildJvm sut, int managementPort) throws Exception {
    long t = System.nanoTime();
    if (sut.name.equals("dispatcher")) {
      while (!Installer.ready(managementPort)) {
        if (!sut.process.isAlive() || secondsSince(t) > 120) {
          throw new IllegalStateException("the dispatcher did not become ready; see " + sut.log);
        }
        Thread.sleep(50);
      }
    } else {
      sut.awaitLine("READY", 120_000);
    }
    double seconds = secondsSince(t);
    log("%s: ready %.2f s after start", sut.name, seconds);
    return seconds;
  }

  private Map<String, String> environment(String system, Path dir, KafkaSide kafka, int httpPort, int managementPort) {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap);
    env.put("EVENTS_TOPICS", kafka.events);
    env.put("CONSUMER_GROUP", kafka.group);
    env.put("DEAD_LETTER_TOPIC", kafka.deadLetters);
    env.put("DELIVERY_TRUSTED_CA_PEM", receivers.certificatePem());
    if (system.equals("dispatcher")) {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      env.put("INSTALLATIONS_TOPIC", "load-installations");
      env.put("RETRY_TOPIC", kafka.retries);
      env.put("TOPIC_PARTITIONS", String.valueOf(KafkaSide.PARTITIONS));
      env.put("ADMIN_TOKEN", ADMIN_TOKEN);
      env.put("SECRETS_KEY", Base64.getEncoder().encodeToString(key));
      env.put("HTTP_PORT", String.valueOf(httpPort));
      env.put("MANAGEMENT_PORT", String.valueOf(managementPort));
      env.put("DATA_DIR", dir.resolve("data").toString());
      env.put("DELIVERY_ALLOW_PRIVATE_NETWORKS", "true"); // the receivers are on 127.0.0.1
      env.put("SHUTDOWN_GRACE_MS", "10000");
      env.putAll(dispatcherEnv); // tuning under test, e.g. DELIVERY_MAX_CONNECTIONS_PER_ENDPOINT=4
    } else {
      env.put("ROUTES_FILE", dir.resolve("routes.json").toString());
    }
    return env;
  }

  /**
   * The dispatcher's row judged against the targets, which are also written into that row; empty when the
   * dispatcher did not run. {@code isolation} compares with the dispatcher's row of {@code latency.json} in {@code
   * results}, when there is one.
   */
  private static Optional<List<Targets.Verdict>> judge(Scenario scenario, ArrayNode rows, Path results)
      throws java.io.IOException {
    Optional<ObjectNode> dispatcher = row(rows, "dispatcher");
    if (dispatcher.isEmpty()) {
      return Optional.empty();
    }
    Path latencyFile = results.resolve("latency.json");
    Optional<ObjectNode> latency = scenario.name().equals("isolation") && Files.exists(latencyFile)
        ? row((ArrayNode) JSON.readTree(latencyFile.toFile()), "dispatcher")
        : Optional.empty();
    List<Targets.Verdict> verdicts = Targets.judge(
        scenario, dispatcher.get(), row(rows, "baseline").<JsonNode>map(r -> r), latency.<JsonNode>map(r -> r));
    ArrayNode targets = dispatcher.get().putArray("targets");
    for (Targets.Verdict v : verdicts) {
      targets.addObject().put("target", v.target()).put("measured", v.measured()).put("met", v.met());
    }
    return Optional.of(verdicts);
  }

  /**
   * Per second of the load: the worst latency of the events due in it, how late the producer handed the latest of them
   * to its Kafka client, and how long after its intended time the broker acknowledged the latest. Logs the seconds
   * whose worst latency passed {@link #SLOW_SECOND_MS}: a stall that the producer's lateness matches is the harness's,
   * one that the acknowledgements match is the broker's (or the producer client's), neither the system's.
   */
  private static void timeline(String system, ObjectNode r, long[] worstMicros, long[] producerLateMicros,
      long[] ackedMicros, long[] connections, long[] witnessMillis) {
    ArrayNode worst = r.putArray("worst_latency_ms_by_second");
    ArrayNode late = r.putArray("producer_late_ms_by_second");
    ArrayNode acked = r.putArray("broker_acked_ms_by_second");
    ArrayNode connected = r.putArray("receiver_connections_by_second");
    ArrayNode witnessed = witnessMillis.length > 0 ? r.putArray("witness_latency_ms_by_second") : null;
    for (int second = 0; second < worstMicros.length; second++) {
      double producerLate = second < producerLateMicros.length ? ms(producerLateMicros[second]) : 0;
      double brokerAcked = second < ackedMicros.length ? ms(ackedMicros[second]) : 0;
      long witness = second < witnessMillis.length ? witnessMillis[second] : -1;
      worst.add(ms(worstMicros[second]));
      late.add(producerLate);
      acked.add(brokerAcked);
      connected.add(connections[second]);
      if (witnessed != null) {
        witnessed.add(witness);
      }
      if (ms(worstMicros[second]) > SLOW_SECOND_MS) {
        log("%s: second %d of the load: worst latency %,.1f ms, the producer up to %,.1f ms late, acknowledged up to"
            + " %,.1f ms after the intended time, read back by the witness within %,d ms; %,d connections opened",
            system, second, ms(worstMicros[second]), producerLate, brokerAcked, witness, connections[second]);
      }
    }
  }

  private static Optional<ObjectNode> row(ArrayNode rows, String system) {
    for (var r : rows) {
      if (r.get("system").asText().equals(system)) {
        return Optional.of((ObjectNode) r);
      }
    }
    return Optional.empty();
  }

  static String table(ArrayNode rows) {
    StringBuilder b = new StringBuilder();
    String format = "%-10s %-14s %9s %11s %8s %8s %8s %9s %9s %6s %6s %6s %8s %7s%n";
    b.append(String.format(Locale.ROOT, format, "system", "scenario", "offered/s", "delivered/s", "p50 ms", "p90 ms",
        "p99 ms", "p99.9 ms", "max ms", "lost", "dups", "dead", "cpu s", "rss MB"));
    for (var r : rows) {
      var l = r.get("latency_ms");
      b.append(String.format(Locale.ROOT, format, r.get("system").asText(), r.get("scenario").asText(),
          r.get("offered_per_s").asText(), r.get("delivered_per_s").asText(), l.get("p50").asText(),
          l.get("p90").asText(), l.get("p99").asText(), l.get("p999").asText(), l.get("max").asText(),
          r.get("lost").asText(), r.get("duplicates").asText(), r.get("dead_letters").asText(), r.get("cpu_s").asText(),
          r.get("rss_mb").asText()));
    }
    return b.toString();
  }

  private static double ms(long micros) {
    return round(micros / 1000.0);
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static double secondsSince(long nanos) {
    return (System.nanoTime() - nanos) / 1e9;
  }

  static void log(String format, Object... args) {
    System.out.printf(Locale.ROOT, "%tT " + format + "%n", prepend(System.currentTimeMillis(), args));
  }

  private static Object[] prepend(Object first, Object[] rest) {
    Object[] all = new Object[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception e) {
      log("could not delete %s: %s", dir, e);
    }
  }

}
