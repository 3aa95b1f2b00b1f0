package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.testing.RunningService;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** With the guard on (the production default), the service refuses endpoints on loopback, private or metadata hosts. */
class SsrfInstallIT {
  private static RunningService service;

  @BeforeAll
  static void start() {
    service = RunningService.start(Map.of("DELIVERY_ALLOW_PRIVATE_NETWORKS", "false"));
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "https://127.0.0.1/hook", "https://localhost/hook", "https://10.0.0.1/hook", "https://169.254.169.254/latest",
      "https://[::1]/hook", "https://127.1/hook", "https://2130706433/hook", "https://0x7f000001/hook",
      "https://0177.0.0.1/hook", "https://[::ffff:127.0.0.1]/hook", "https://172.16.0.1/hook",
      "https://192.168.1.1/hook", "https://100.64.0.1/hook", "https://[fd00::1]/hook", "https://[fe80::1]/hook",
      "https://0.0.0.0/hook"})
  void anEndpointOnANonPublicAddressIsRefusedAtInstall(String endpoint) {
    HttpResponse<String> response = service.api().installRaw("acc1", """
        {"client_name": "ssrf-it", "capabilities": {"webhooks": {
          "ms.MessagingEventNotification.ContentEvent": {"endpoint": "%s"}}}}
        """.formatted(endpoint));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(response.body()).contains("\"path\":\"capabilities.webhooks['ms.MessagingEventNotification.ContentEvent'].endpoint\"");
    assertThat(service.api().list("acc1")).isEmpty();
  }
}
