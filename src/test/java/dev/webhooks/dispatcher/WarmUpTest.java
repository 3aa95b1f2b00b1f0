package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.config.Config;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WarmUpTest {
  private static final Duration BUDGET = Duration.ofMillis(400);
  private static Vertx vertx;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void deliversToItsOwnReceiverForItsBudgetWithNoneOfTheDeliverySettingsOpened() throws Exception {
    List<Path> filesBefore = certificateFiles();
    // the defaults: no extra CA trusted, private networks refused; the warm-up trusts and reaches its receiver alone
    WarmUp.Report report = WarmUp.run(vertx, Config.fromEnv(Map.of()), BUDGET).await(20, TimeUnit.SECONDS);

    assertThat(report.failed()).isZero();
    assertThat(report.records()).isPositive();
    assertThat(report.delivered()).as("each record goes to every warm-up app").isEqualTo(report.records() * 4);
    assertThat(report.took()).isGreaterThanOrEqualTo(BUDGET);
    assertThat(certificateFiles()).as("the receiver's certificate is deleted").isEqualTo(filesBefore);
  }

  /** Its samples are delivered whatever the event size limit, and over either TLS engine. */
  @ParameterizedTest
  @CsvSource({"MAX_EVENT_BYTES, 1024", "DELIVERY_NATIVE_TLS, false"})
  void worksWhateverTheSetting(String variable, String value) throws Exception {
    WarmUp.Report report = WarmUp.run(vertx, Config.fromEnv(Map.of(variable, value)), BUDGET)
        .await(20, TimeUnit.SECONDS);

    assertThat(report.failed()).isZero();
    assertThat(report.delivered()).isPositive();
  }

  @Test
  void aZeroBudgetSkipsIt() throws Exception {
    WarmUp.Report report = WarmUp.run(vertx, Config.fromEnv(Map.of("WARMUP_MS", "0")), Duration.ZERO)
        .await(1, TimeUnit.SECONDS);

    assertThat(report).isEqualTo(new WarmUp.Report(0, 0, 0, Duration.ZERO));
  }

  private static List<Path> certificateFiles() throws IOException {
    try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return files.filter(file -> file.getFileName().toString().startsWith("webhook-loopback-")).toList();
    }
  }
}
