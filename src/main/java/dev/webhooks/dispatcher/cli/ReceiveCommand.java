package dev.webhooks.dispatcher.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SelfSignedCertificate;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code receive [--port 9443] [--secret CLIENT_SECRET] [--cert-out receiver-cert.pem] [--status 200]}: a local HTTPS
 * webhook receiver for trying an app's setup. It serves a self-signed certificate for {@code localhost} (written as
 * PEM for {@code DELIVERY_TRUSTED_CA_PEM}), prints every delivery with its signature checks and answers with the
 * chosen status.
 */
public final class ReceiveCommand {
  public static final String USAGE =
      "receive [--port 9443] [--secret CLIENT_SECRET] [--cert-out receiver-cert.pem] [--status 200]";
  /** Generating the certificate may take a second without BouncyCastle; binding is instant. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Set<String> OPTIONS = Set.of("port", "secret", "cert-out", "status");

  /** What the command line asked for. */
  public record Options(int port, Optional<String> secret, Path certOut, int status) {
    public static Options parse(List<String> args) {
      Flags flags = Flags.parse(args, OPTIONS);
      if (!flags.positional().isEmpty()) {
        throw new UsageException("receive takes no file arguments, got " + flags.positional());
      }
      return new Options(
          flags.integer("port", 9443, 0, 65535),
          flags.option("secret").filter(s -> !s.isEmpty()),
          Path.of(flags.option("cert-out").orElse("receiver-cert.pem")).toAbsolutePath(),
          flags.integer("status", 200, 100, 599));
    }
  }

  /** A listening receiver: its actual port and the certificate it serves. */
  public record Receiver(HttpServer server, int port, Path certificate) {
    public Future<Void> close() {
      return server.close();
    }
  }

  private ReceiveCommand() {}

  /** Runs the receiver until the JVM is stopped (Ctrl-C); returns 1 only when it cannot start. */
  public static int run(List<String> args, PrintStream out, PrintStream err) {
    Options options = Options.parse(args);
    Vertx vertx = Vertx.vertx();
    try {
      start(vertx, options, out, Clock.systemUTC())
          .toCompletionStage()
          .toCompletableFuture()
          .get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      err.println("cannot start the receiver on port " + options.port() + ": " + e.getCause().getMessage());
      vertx.close();
      return 1;
    } catch (Exception e) {
      err.println("cannot start the receiver on port " + options.port() + ": " + e);
      vertx.close();
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  out.println();
                  out.println("Receiver stopped.");
                  vertx.close();
                  stopped.countDown();
                },
                "receiver-stop"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** Makes the certificate, writes its PEM, starts listening and prints how to point the dispatcher at it. */
  public static Future<Receiver> start(Vertx vertx, Options options, PrintStream out, Clock clock) {
    return vertx
        .executeBlocking(() -> certificate(options.certOut()))
        .compose(
            cert -> {
              HttpServerOptions serverOptions =
                  new HttpServerOptions().setSsl(true).setKeyCertOptions(cert);
              DeliveryPrinter printer = new DeliveryPrinter(options.secret(), out, clock);
              return vertx
                  .createHttpServer(serverOptions)
                  .requestHandler(request -> receive(request, options.status(), printer))
                  .listen(options.port())
                  .map(server -> new Receiver(server, server.actualPort(), options.certOut()));
            })
        .onSuccess(receiver -> out.print(banner(receiver, options)));
  }

  private static void receive(HttpServerRequest request, int status, DeliveryPrinter printer) {
    request
        .body()
        .onSuccess(
            body -> {
              printer.print(request.method().name(), request.uri(), request.headers(), body.getBytes(), status);
              request.response().setStatusCode(status).end();
            })
        .onFailure(e -> printer.printFailure(request.method().name(), request.uri(), e));
  }

  /**
   * Blocking: the certificate and key kept beside {@code certOut} from an earlier run, or new ones written there. Reusing
   * them lets the receiver restart (say, with {@code --secret}) without the dispatcher losing its trust in it.
   */
  private static PemKeyCertOptions certificate(Path certOut) throws Exception {
    Path keyOut = keyPathFor(certOut);
    if (!Files.isRegularFile(certOut) || !Files.isRegularFile(keyOut)) {
      SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
      Path parent = certOut.getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.copy(Path.of(cert.certificatePath()), certOut, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(Path.of(cert.privateKeyPath()), keyOut, StandardCopyOption.REPLACE_EXISTING);
    }
    return new PemKeyCertOptions().setCertPath(certOut.toString()).setKeyPath(keyOut.toString());
  }

  /** {@code receiver-cert.pem} keeps its key in {@code receiver-key.pem}; any other name in {@code <name>.key}. */
  static Path keyPathFor(Path certOut) {
    String name = certOut.getFileName().toString();
    return certOut.resolveSibling(name.contains("cert") ? name.replace("cert", "key") : name + ".key");
  }

  private static String banner(Receiver receiver, Options options) {
    String n = System.lineSeparator();
    return "Receiving webhooks on https://localhost:" + receiver.port() + "/ (any path), answering " + options.status()
        + n + "Certificate (self-signed, valid for the host name localhost only, reused on restart): " + receiver.certificate()
        + n + "  Let the dispatcher trust it:  DELIVERY_TRUSTED_CA_PEM=" + receiver.certificate()
        + " DELIVERY_ALLOW_PRIVATE_NETWORKS=true"
        + n + "  Endpoints in the manifest:     https://localhost:" + receiver.port() + "/webhooks/..."
        + n + (options.secret().isPresent()
            ? "Signatures are checked with the client secret you gave."
            : "Signatures are NOT checked: pass --secret CLIENT_SECRET (from the installation) to verify them.")
        + n + "Press Ctrl-C to stop." + n + n;
  }
}
