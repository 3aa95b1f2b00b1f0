package dev.webhooks.dispatcher.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webhooks.dispatcher.cli.ReceiveCommand.Options;
import dev.webhooks.dispatcher.cli.ReceiveCommand.Receiver;
import dev.webhooks.dispatcher.signing.Signer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReceiveCommandTest {
  private static final String SECRET = "client-secret-1";
  private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");
  private static final byte[] BODY =
      "{\"kind\":\"notification\",\"body\":{\"changes\":[]},\"type\":\"ms.MessagingEventNotification\"}"
          .getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final ByteArrayOutputStream output = new ByteArrayOutputStream();

  @AfterEach
  void closeVertx() throws Exception {
    await(vertx.close());
  }

  @Test
  void answersOverTrustedHttpsAndReportsVerifiedSignatures() throws Exception {
    Receiver receiver = startReceiver(Optional.of(SECRET), 201);
    assertThat(receiver.port()).isPositive();
    assertThat(Files.readString(receiver.certificate())).startsWith("-----BEGIN CERTIFICATE-----");

    HttpResponse<Buffer> response = post(receiver, SECRET, NOW.getEpochSecond());

    assertThat(response.statusCode()).isEqualTo(201);
    String printed = output.toString(StandardCharsets.UTF_8);
    assertThat(printed)
        .contains("Signatures are checked")
        .contains("POST /webhooks/content?source=test  (answered 201)")
        .contains("x-liveperson-account-id: 123")
        .contains("webhook-id: msg_1")
        .contains("X-Walkthrough-Token: hello")
        .contains(new String(BODY, StandardCharsets.UTF_8))
        .contains("x-liveperson-signature: OK")
        .contains("webhook-signature:      OK")
        .doesNotContain("WARNING");
  }

  @Test
  void reportsMismatchesAndClockSkew() throws Exception {
    Receiver receiver = startReceiver(Optional.of(SECRET), 200);

    post(receiver, "another-secret", NOW.getEpochSecond() - 600);

    assertThat(output.toString(StandardCharsets.UTF_8))
        .contains("x-liveperson-signature: MISMATCH")
        .contains("webhook-signature:      MISMATCH")
        .contains("WARNING: webhook-timestamp is 600 s behind");
  }

  @Test
  void saysSignaturesAreNotCheckedWithoutASecret() throws Exception {
    Receiver receiver = startReceiver(Optional.empty(), 200);

    assertThat(post(receiver, SECRET, NOW.getEpochSecond()).statusCode()).isEqualTo(200);

    assertThat(output.toString(StandardCharsets.UTF_8))
        .contains("Signatures are NOT checked")
        .contains("signatures: not checked");
  }

  @Test
  void rejectsBadOptions() {
    assertThatThrownBy(() -> Options.parse(List.of("--status", "abc"))).isInstanceOf(UsageException.class);
    assertThatThrownBy(() -> Options.parse(List.of("--port", "70000"))).isInstanceOf(UsageException.class);
    assertThatThrownBy(() -> Options.parse(List.of("--colour", "red"))).isInstanceOf(UsageException.class);
    assertThat(Options.parse(List.of()).port()).isEqualTo(9443);
  }

  @Test
  void aRestartedReceiverServesTheSameCertificateSoTheDispatcherStillTrustsIt() throws Exception {
    Receiver first = startReceiver(Optional.empty(), 200);
    String certificate = Files.readString(first.certificate());
    await(first.close());

    Receiver second = startReceiver(Optional.of(SECRET), 200);

    assertThat(Files.readString(second.certificate())).isEqualTo(certificate);
    assertThat(ReceiveCommand.keyPathFor(second.certificate())).hasFileName("receiver-key.pem").exists();
    assertThat(post(second, SECRET, NOW.getEpochSecond()).statusCode()).as("trusted with the first run's PEM")
        .isEqualTo(200);
  }

  private Receiver startReceiver(Optional<String> secret, int status) throws Exception {
    Options options = new Options(0, secret, dir.resolve("certs/receiver-cert.pem"), status);
    PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
    return await(ReceiveCommand.start(vertx, options, out, Clock.fixed(NOW, ZoneOffset.UTC)));
  }

  /** Trusts only the PEM the receiver wrote, with host name verification on, as the dispatcher does. */
  private HttpResponse<Buffer> post(Receiver receiver, String secret, long timestamp) throws Exception {
    WebClient client =
        WebClient.create(
            vertx,
            new WebClientOptions()
                .setSsl(true)
                .setVerifyHost(true)
                .setTrustOptions(new PemTrustOptions().addCertPath(receiver.certificate().toString())));
    try {
      return await(
          client
              .post(receiver.port(), "localhost", "/webhooks/content?source=test")
              .putHeader("Content-Type", "application/json")
              .putHeader("x-liveperson-account-id", "123")
              .putHeader("x-liveperson-client-id", "client-1")
              .putHeader("x-liveperson-signature", Signer.liveperson(secret, BODY))
              .putHeader("webhook-id", "msg_1")
              .putHeader("webhook-timestamp", String.valueOf(timestamp))
              .putHeader("webhook-signature", Signer.standard(List.of(secret), "msg_1", timestamp, BODY))
              .putHeader("X-Walkthrough-Token", "hello")
              .sendBuffer(Buffer.buffer(BODY)));
    } finally {
      client.close();
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
