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
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Fetches an https logo the way deliveries reach endpoints (the SSRF guard on the resolved addresses, a connection
 * to the address that was checked, TLS verified, no redirects), with a 1 MiB cap and a 3 s limit, then reads its
 * size from the image header on a worker thread.
 */
public final class LogoFetcher implements LogoCheck {
  static final int MAX_BYTES = 1024 * 1024;
  static final long TIMEOUT_MS = 3_000;

  private final Vertx vertx;
  private final HttpClient client;
  private final HostResolver resolver;
  private final AddressGuard guard;

  /** @param trust the CAs to trust; empty for the JDK's */
  public LogoFetcher(Vertx vertx, HostResolver resolver, AddressGuard guard, Optional<TrustOptions> trust) {
    this.vertx = vertx;
    this.resolver = resolver;
    this.guard = guard;
    HttpClientOptions options = new HttpClientOptions()
        .setSsl(true)
        .setVerifyHost(true)
        .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"))
        .setConnectTimeout((int) TIMEOUT_MS)
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
    return resolver.resolve(endpoint.host())
        .compose(addresses -> {
          Optional<String> refusal = guard.refusal(endpoint.host(), addresses);
          return refusal.isPresent()
              ? Future.<Buffer>failedFuture(new IllegalStateException(refusal.get()))
              : fetch(endpoint, new InetSocketAddress(addresses.get(0), endpoint.port()));
        })
        .timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS)
        .compose(this::measure)
        .otherwise(failure -> new NotChecked("could not be fetched to check its 70x70 size: " + describe(failure)));
  }

  private Future<Buffer> fetch(Endpoint endpoint, InetSocketAddress address) {
    RequestOptions request = new RequestOptions()
        .setMethod(HttpMethod.GET)
        .setServer(SocketAddress.inetSocketAddress(address))
        .setHost(endpoint.host())
        .setPort(endpoint.port())
        .setURI(endpoint.pathAndQuery())
        .setFollowRedirects(false)
        .setIdleTimeout(TIMEOUT_MS);
    return client.request(request)
        .compose(req -> req.authority(endpoint.authority()).send()) // an IPv6 literal in brackets
        .compose(response -> {
          if (response.statusCode() != 200) {
            // Not reading the body: reset the stream, which is expected here and not worth an error log.
            response.exceptionHandler(expected -> { });
            response.request().reset();
            return Future.failedFuture(new IllegalStateException("it answered HTTP " + response.statusCode()));
          }
          Promise<Buffer> body = Promise.promise();
          Buffer bytes = Buffer.buffer();
          response.handler(chunk -> {
            bytes.appendBuffer(chunk);
            if (bytes.length() > MAX_BYTES) {
              body.tryFail(new IllegalStateException("it is larger than " + MAX_BYTES / 1024 + " KiB"));
              response.request().reset();
            }
          });
          response.exceptionHandler(body::tryFail);
          response.endHandler(v -> body.tryComplete(bytes));
          return body.future();
        });
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
