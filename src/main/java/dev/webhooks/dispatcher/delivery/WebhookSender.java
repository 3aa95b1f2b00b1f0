package dev.webhooks.dispatcher.delivery;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.install.Header;
import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.signing.Signer;
import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Makes one attempt of a delivery: resolves the endpoint's host, refuses blocked addresses, and POSTs the signed body
 * to the address that was checked (Host, SNI and certificate checks still use the endpoint's host). The future always
 * succeeds with a {@link DeliveryOutcome}; it never fails for a receiver's or the network's behaviour.
 */
public final class WebhookSender {
  /** Response bodies are ignored; past this many bytes the connection is dropped rather than drained. */
  static final int DRAIN_LIMIT_BYTES = 64 * 1024;
  /** Endpoints parsed, by URL: parsing took 3.6% of a lane's CPU when done per attempt. Cleared when this full. */
  static final int PARSED_ENDPOINTS_KEPT = 10_000;

  private final Vertx vertx;
  private final HostResolver resolver;
  private final AddressGuard guard;
  private final Clock clock;
  private final Duration connectTimeout;
  private final Duration responseTimeout;
  private final HttpClientAgent client;
  private final Map<String, Endpoint> parsed = new ConcurrentHashMap<>();
  /** Per origin (host and port), the address its attempts connect to; see {@link #serverFor}. Cleared when this full. */
  private final Map<Origin, Server> servers = new ConcurrentHashMap<>();
  /** Response deadlines, one list per event-loop thread: an exchange's callbacks all run on the thread it started on. */
  private final FastThreadLocal<Deadlines> deadlines = new FastThreadLocal<>() {
    @Override
    protected Deadlines initialValue() {
      return new Deadlines(vertx, responseTimeout);
    }
  };

  /** Reads {@code config.trustedCaPem} (a small file), so construct it at start-up. */
  public WebhookSender(Vertx vertx, Config config, HostResolver resolver, Clock clock) {
    this(vertx, config, resolver, clock, delta -> {});
  }

  /** As above, telling {@code connectionsChanged} of every connection to a receiver opened (+1) and closed (-1). */
  WebhookSender(Vertx vertx, Config config, HostResolver resolver, Clock clock, IntConsumer connectionsChanged) {
    this.vertx = vertx;
    this.resolver = resolver;
    this.guard = new AddressGuard(config.allowPrivateNetworks(), resolver);
    this.clock = clock;
    this.connectTimeout = config.connectTimeout();
    this.responseTimeout = config.responseTimeout();
    HttpClientOptions options =
        new HttpClientOptions()
            .setName("webhook-delivery")
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setSsl(true)
            .setVerifyHost(true)
            .setTrustAll(false)
            .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"))
            .setKeepAlive(true)
            .setConnectTimeout((int) connectTimeout.toMillis())
            // a receiver that accepts TCP but stalls the handshake is as dead as one that does not accept
            .setSslHandshakeTimeout(connectTimeout.toMillis())
            .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS)
            .setSslEngineOptions(TlsEngine.choose(config.nativeTls()));
    Trust.withExtraCas(config.trustedCaPem()).ifPresent(options::setTrustOptions);
    PoolOptions pool = new PoolOptions().setHttp1MaxSize(config.maxConnectionsPerEndpoint());
    this.client = vertx.httpClientBuilder().with(options).with(pool)
        .withConnectHandler(connection -> {
          connectionsChanged.accept(1);
          connection.closeHandler(closed -> connectionsChanged.accept(-1));
        })
        .build();
  }

  public WebhookSender(Vertx vertx, Config config) {
    this(vertx, config, HostResolver.system(vertx), Clock.systemUTC());
  }

  /** One attempt; the outcome says whether it was delivered, is worth a retry, or must never be retried. */
  public Future<DeliveryOutcome> send(Delivery delivery) {
    Endpoint endpoint;
    try {
      endpoint = endpointOf(delivery.webhook().endpoint());
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(
          new DeliveryOutcome.PermanentFailure(OptionalInt.empty(), Outcomes.INVALID_ENDPOINT, e.getMessage()));
    }
    return resolver
        .resolve(endpoint.host())
        .compose(addresses -> checkedPost(delivery, endpoint, addresses))
        .otherwise(failure -> Outcomes.ofFailure(failure, endpoint.host()));
  }

  public Future<Void> close() {
    return client.close();
  }

  /** Parses each URL once; throws as {@link Endpoint#parse} does, and keeps nothing for a URL that does not parse. */
  private Endpoint endpointOf(String url) {
    Endpoint known = parsed.get(url);
    if (known != null) {
      return known;
    }
    if (parsed.size() >= PARSED_ENDPOINTS_KEPT) {
      parsed.clear(); // URLs of apps long uninstalled; the live ones are parsed again once
    }
    Endpoint endpoint = Endpoint.parse(url);
    parsed.put(url, endpoint);
    return endpoint;
  }

  private Future<DeliveryOutcome> checkedPost(Delivery delivery, Endpoint endpoint, List<InetAddress> addresses) {
    Optional<String> refusal = guard.refusal(endpoint.host(), addresses);
    if (refusal.isPresent()) {
      return Future.succeededFuture(
          new DeliveryOutcome.PermanentFailure(OptionalInt.empty(), Outcomes.BLOCKED_ADDRESS, refusal.get()));
    }
    RequestOptions request =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setServer(serverFor(endpoint, addresses))
            .setHost(endpoint.host())
            .setPort(endpoint.port())
            .setURI(endpoint.pathAndQuery())
            .setSsl(true)
            // No request-level connect timeout: it would also count the wait for a pooled connection, and a burst
            // queued behind a busy endpoint would fail without ever being sent. The TCP connect and the TLS
            // handshake each have their own timeout (client options); the response deadline starts at sending.
            .setFollowRedirects(false);
    Promise<DeliveryOutcome> outcome = Promise.promise();
    client
        .request(request)
        // Vert.x writes the Host header from setHost, which for an IPv6 literal lacks its brackets; only then is it
        // replaced, so the usual request allocates nothing more
        .onSuccess(req -> send(endpoint.isIpv6Literal() ? req.authority(endpoint.authority()) : req, delivery,
            endpoint.host(), outcome))
        .onFailure(failure -> outcome.tryComplete(Outcomes.ofFailure(failure, endpoint.host())));
    return outcome.future();
  }

  /**
   * The address an origin's attempts connect to (all of its addresses were checked): the one it used last while its
   * name still resolves to it, so a name that answers its addresses in turn (round-robin DNS) keeps its connections,
   * else the first, so a name that moved is followed at the next attempt.
   *
   * <p>The address goes to Vert.x without the name it was looked up by. Vert.x keys its connection pools by the
   * server's host string, which is that name when the address carries one (as every looked-up address does), and a
   * pool keeps connecting to the address of its first request: a name that moved would be followed only once the pool
   * had no connection left. Keyed by the address, each address gets a pool of its own (Host and SNI stay the name).
   */
  private SocketAddress serverFor(Endpoint endpoint, List<InetAddress> addresses) {
    Origin origin = new Origin(endpoint.host(), endpoint.port());
    Server kept = servers.get(origin);
    if (kept != null && addresses.contains(kept.address())) { // InetAddress.equals compares the addresses alone
      return kept.socket();
    }
    if (servers.size() >= PARSED_ENDPOINTS_KEPT) {
      servers.clear(); // origins of apps long uninstalled; the live ones choose again
    }
    InetAddress address = nameless(addresses.get(0));
    SocketAddress socket = SocketAddress.inetSocketAddress(new InetSocketAddress(address, endpoint.port()));
    Server server = new Server(address, socket);
    servers.put(origin, server);
    return socket;
  }

  private static InetAddress nameless(InetAddress address) {
    try {
      return address instanceof Inet6Address v6 && v6.getScopeId() != 0
          ? Inet6Address.getByAddress(null, v6.getAddress(), v6.getScopeId())
          : InetAddress.getByAddress(address.getAddress());
    } catch (UnknownHostException impossible) { // thrown only for an address of a length other than 4 or 16 bytes
      throw new IllegalStateException(impossible);
    }
  }

  private record Origin(String host, int port) {}

  private record Server(InetAddress address, SocketAddress socket) {}

  /**
   * Signs once a connection is there, so a wait for one does not age {@code webhook-timestamp}; the headers go straight
   * into the request's own map (a map set on the options would be copied into it).
   */
  private void send(HttpClientRequest request, Delivery delivery, String host, Promise<DeliveryOutcome> outcome) {
    try {
      addHeaders(request.headers(), delivery, clock.instant().getEpochSecond());
    } catch (RuntimeException unsendable) { // a header the manifest checks should have refused: never left hanging
      outcome.tryComplete(Outcomes.ofFailure(unsendable, host));
      request.exceptionHandler(resetByUs -> {}).reset(); // nothing was sent: abandon it, freeing its connection
      return;
    }
    new Exchange(request, host, outcome).start(delivery.body());
  }

  /** Adds every header of the POST, in the documented order, custom headers last and as given. */
  private static void addHeaders(MultiMap headers, Delivery delivery, long timestamp) {
    Installation app = delivery.app();
    ByteBuffer body = Bodies.view(delivery.body());
    headers.add(HttpHeaders.CONTENT_TYPE, "application/json");
    headers.add("x-liveperson-account-id", app.accountId());
    headers.add("x-liveperson-client-id", app.clientId());
    headers.add("x-liveperson-signature", Signer.liveperson(app.currentSecret(), body));
    headers.add("webhook-id", delivery.webhookId());
    headers.add("webhook-timestamp", Long.toString(timestamp));
    headers.add("webhook-signature", Signer.standard(app.signingSecrets(), delivery.webhookId(), timestamp, body));
    for (Header custom : delivery.webhook().headers()) {
      headers.add(custom.name(), custom.value());
    }
  }

  /**
   * One request and its response under a deadline counted from sending: when it passes, the request is reset, so a
   * receiver that answers slowly or dribbles bytes cannot hold the attempt longer. Started on an event loop (as lanes
   * do), the deadline is an entry in that thread's {@link Deadlines}; elsewhere, a timer of its own.
   */
  private final class Exchange extends Deadlines.Entry {
    private final HttpClientRequest request;
    private final String host;
    private final Promise<DeliveryOutcome> outcome;
    private DeliveryOutcome byStatus;
    private Deadlines listedIn;
    private long timer;
    private long drained;

    Exchange(HttpClientRequest request, String host, Promise<DeliveryOutcome> outcome) {
      this.request = request;
      this.host = host;
      this.outcome = outcome;
    }

    void start(Buffer body) {
      if (Context.isOnEventLoopThread()) {
        listedIn = deadlines.get();
        listedIn.add(this);
      } else {
        timer = vertx.setTimer(responseTimeout.toMillis(), id -> deadlinePassed());
      }
      request.send(body).onComplete(sent -> {
        if (sent.succeeded()) {
          read(sent.result());
        } else {
          finish(Outcomes.ofFailure(sent.cause(), host));
        }
      });
    }

    private void read(HttpClientResponse response) {
      byStatus = Outcomes.ofStatus(
          response.statusCode(), response.getHeader(HttpHeaders.RETRY_AFTER), host, clock.instant());
      response.handler(chunk -> {
        drained += chunk.length();
        if (drained > DRAIN_LIMIT_BYTES && finish(byStatus)) {
          request.reset(); // not worth reading: give up the connection instead
        }
      });
      response.exceptionHandler(failure -> finish(byStatus));
      response.endHandler(end -> finish(byStatus));
    }

    @Override
    void expired() {
      deadlinePassed();
    }

    private void deadlinePassed() {
      // a status that has arrived decides; only the rest of an ignored body was still outstanding
      if (finish(byStatus != null ? byStatus : Outcomes.timedOut(host, responseTimeout))) {
        request.reset();
      }
    }

    private boolean finish(DeliveryOutcome result) {
      if (listedIn != null) {
        listedIn.remove(this);
      } else {
        vertx.cancelTimer(timer);
      }
      return outcome.tryComplete(result);
    }
  }
}
