package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.webhooks.dispatcher.config.Config;
import dev.webhooks.dispatcher.config.Credentials;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MainTest {
  private static final String KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

  @Test
  void theBannerShowsTheKeptAdminTokenForLocalUseButNeverOneFromTheEnvironment() {
    Config local = Config.fromEnv(Map.of("DATA_DIR", "/var/lib/dispatcher"));
    assertThat(Main.adminToken(local, new Credentials("kept-token", KEY, "data", true)))
        .isEqualTo("kept-token  (generated; kept in /var/lib/dispatcher/admin-token unless ADMIN_TOKEN is set)");
    assertThat(Main.adminToken(local, new Credentials("kept-token", KEY, "data", false)))
        .isEqualTo("kept-token  (kept in /var/lib/dispatcher/admin-token unless ADMIN_TOKEN is set)");

    Config given = Config.fromEnv(Map.of("ADMIN_TOKEN", "operators-token"));
    assertThat(Main.adminToken(given, new Credentials("operators-token", KEY, "SECRETS_KEY", false)))
        .isEqualTo("(from ADMIN_TOKEN)");
    Config external = Config.fromEnv(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "ADMIN_TOKEN", "operators-token"));
    assertThat(Main.adminToken(external, new Credentials("operators-token", KEY, "SECRETS_KEY", false)))
        .isEqualTo("(from ADMIN_TOKEN)");
  }
}
