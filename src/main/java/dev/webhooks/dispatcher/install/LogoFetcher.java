package dev.webhooks.dispatcher.install;

import dev.webhooks.dispatcher.delivery.AddressGuard;
import dev.webhooks.dispatcher.delivery.Endpoint;
import dev.webhooks.dispatcher.delivery.HostResolver;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Fetches an https logo the way deliveries reach endpoints (the SSRF guard on the resolved addresses, a connection
 * to the address that was checked, TLS verified, no redirects), with a 1 MiB cap and a 3 s budget for the whole fetch,
 * then reads its size from the image header on a worker thread.
 */
public final class LogoFetcher implements LogoCheck {
  static final int MAX_BYTES = 1024 * 1024;
  /** An install request waits for this check, so it gets a few seconds, however the server paces its bytes. */
  static final Duration BUDGET = Duration.ofSeconds(3);

  private final Vertx vertx;
  private final HttpClient client;
  private final HostResolver resolver;
  private final AddressGuard guard;
  private final long budgetMs;

  /** @param trust the CAs to trust; empty for the JDK's */
  public LogoFetcher(Vertx vertx, HostResolver resolver, AddressGuard guard, Optional<TrustOptions> trust) {
    this(vertx, resolver, guard, trust, BUDGET);
  }

  LogoFetcher(Vertx vertx, HostResolver resolver, AddressGuard guard, Optional<TrustOptions> trust, Duration budget) {
    this.vertx = vertx;
    this.resolver = resolver;
    this.guard = guard;
    this.budgetMs = budget.toMillis();
    HttpClientOptions options = new HttpClientOptions()
        .setSsl(true)
        .setVerifyHost(true)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"))
        .setConnectTimeout((int) budgetMs)
        .setSslHandshakeTimeout(budgetMs)
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS)
        .setKeepAlive(false) // one fetch per install: a pooled connection would only stay open
        .setName("logo-check");
    trust.ifPresent(options::setTrustOptions);
    this.client = vertx.createHttpClient(options);
  }

  @Override
  public Future<Finding> check(String logoUri) {
    if (!isHttpsUrl(logoUri)) {
      return Future.succeededFuture(new Fits());
    }
    Endpoint endpoint;
    try {
      endpoint = Endpoint.parse(logoUri);
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(new NotChecked("not fetched: " + e.getMessage()));
    }
    return download(endpoint)
        .compose(this::measure)
        .otherwise(failure -> new NotChecked("could not be fetched to check its 70x70 size: " + describe(failure)));
  }

  /**
   * The logo's bytes, or a failure once the budget is spent, whichever step it is in. Vert.x has only connect and idle
   * timeouts, which a server sending a byte now and then never trips, so the budget is a timer of its own; a request
   * still open then is reset, which closes its connection. (A lookup cannot be cancelled; it has its own limit.)
   */
  private Future<Buffer> download(Endpoint endpoint) {
    Promise<Buffer> image = Promise.promise();
    long budget = vertx.setTimer(budgetMs, spent ->
        image.tryFail(new TimeoutException("it did not finish within " + budgetMs + " ms")));
    resolver.resolve(endpoint.host())
        .compose(addresses -> {
          Optional<String> refusal = guard.refusal(endpoint.host(), addresses);
          if (image.future().isComplete()) { // the budget was spent on the lookup: connect to nothing
            return Future.<HttpClientRequest>failedFuture(image.future().cause());
          }
          return refusal.isPresent()
              ? Future.<HttpClientRequest>failedFuture(new IllegalStateException(refusal.get()))
              : client.request(request(endpoint, new InetSocketAddress(addresses.get(0), endpoint.port())));
        })
        .onSuccess(request -> send(request, endpoint, image))
        .onFailure(image::tryFail);
    return image.future().onComplete(done -> vertx.cancelTimer(budget));
  }

  private RequestOptions request(Endpoint endpoint, InetSocketAddress address) {
    return new RequestOptions()
        .setMethod(HttpMethod.GET)
        .setServer(SocketAddress.inetSocketAddress(address))
        .setHost(endpoint.host())
        .setPort(endpoint.port())
        .setURI(endpoint.pathAndQuery())
        .setFollowRedirects(false)
        .setConnectTimeout(budgetMs); // the wait for a connection; the budget's timer covers the rest
  }

  /** Sends the GET; however the fetch ends short of the whole image (budget, status, size, error), it is reset. */
  private static void send(HttpClientRequest request, Endpoint endpoint, Promise<Buffer> image) {
    request.exceptionHandler(image::tryFail); // set before sending: once it has ended, a request takes no handler
    image.future().onFailure(abandoned -> request.reset());
    if (image.future().failed()) {
      return; // the budget was spent while the connection was made
    }
    request.authority(endpoint.authority()) // an IPv6 literal in brackets
        .send()
        .onSuccess(response -> read(response, image))
        .onFailure(image::tryFail);
  }

  private static void read(HttpClientResponse response, Promise<Buffer> image) {
    response.exceptionHandler(image::tryFail);
    if (response.statusCode() != 200) {
      image.tryFail(new IllegalStateException("it answered HTTP " + response.statusCode()));
      return;
    }
    Buffer bytes = Buffer.buffer();
    response.handler(chunk -> {
      bytes.appendBuffer(chunk);
      if (bytes.length() > MAX_BYTES) {
        image.tryFail(new IllegalStateException("it is larger than " + MAX_BYTES / 1024 + " KiB"));
      }
    });
    response.endHandler(v -> image.tryComplete(bytes));
  }

  /** Reads the width and height from the image's header; decoding is CPU work, so it runs on a worker. */
  private Future<Finding> measure(Buffer image) {
    return vertx.executeBlocking(() -> {
      try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(image.getBytes()))) {
        Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
        if (readers == null || !readers.hasNext()) {
          return new NotChecked("is not a PNG, JPEG, GIF or BMP image, so its 70x70 size was not checked");
        }
        ImageReader reader = readers.next();
        try {
          reader.setInput(in);
          int width = reader.getWidth(0);
          int height = reader.getHeight(0);
          return width == SIDE && height == SIDE
              ? new Fits()
              : new WrongSize("must be a " + SIDE + "x" + SIDE + " image; it is " + width + "x" + height);
        } finally {
          reader.dispose();
        }
      } catch (IOException e) {
        return new NotChecked("could not be read as an image: " + e.getMessage());
      }
    }, false);
  }

  private static boolean isHttpsUrl(String text) {
    try {
      URI uri = new URI(text);
      return "https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null;
    } catch (Exception e) {
      return false;
    }
  }

  private static String describe(Throwable failure) {
    String message = failure.getMessage();
    return message == null || message.isBlank() ? failure.getClass().getSimpleName() : message;
  }
}
