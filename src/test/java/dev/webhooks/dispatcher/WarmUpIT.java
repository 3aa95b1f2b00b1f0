package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.testing.CapturedLogs;
import dev.webhooks.dispatcher.testing.RunningService;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The warm-up of a real start: it delivers to its own receiver before ready, and no trace of it reaches the metrics. */
class WarmUpIT {
  private static final Pattern WARMED =
      Pattern.compile("Warmed up the delivery path in (\\d+) ms: (\\d+) records, (\\d+) deliveries");

  @Test
  void warmsUpBeforeReadyAndLeavesTheMetricsAsIfItHadNotRun() {
    try (CapturedLogs logs = CapturedLogs.capture();
        RunningService service = RunningService.start(Map.of("WARMUP_MS", "300"))) {
      assertThat(service.service().isReady()).isTrue();
      Matcher warmed = WARMED.matcher(logs.text());
      assertThat(warmed.find()).as(logs.text()).isTrue();
      assertThat(Long.parseLong(warmed.group(1))).isGreaterThanOrEqualTo(300);
      assertThat(Integer.parseInt(warmed.group(3))).isPositive();
      assertThat(logs.text()).doesNotContain("failed or was cut short");

      String metrics = service.scrape();
      assertThat(metrics)
          .doesNotContain("webhook_delivery_attempts_total{")
          .doesNotContain("webhook_deliveries_total{")
          .doesNotContain("webhook_events_consumed_total{")
          .contains("webhook_delivery_connections 0.0");
      assertThat(metrics.lines().filter(line -> line.startsWith("vertx_http_server")))
          .as("the warm-up's receiver has no server meters").noneMatch(line -> line.contains("127.0.0.1"));
    }
  }
}
