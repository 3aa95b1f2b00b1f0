package dev.webhooks.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/** Installs the workload's apps: through the App Install API (dispatcher), or as the baseline's routes file. */
final class Installer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Installer() {}

  /** The manifest, importing the app's credentials so both systems sign with the same secret. */
  static ObjectNode manifest(Workload.App app, String url) {
    ObjectNode m = JSON.createObjectNode();
    m.put("client_name", "Load test app " + app.index());
    m.put("client_id", app.clientId());
    m.put("client_secret", app.secret());
    m.putObject("capabilities").putObject("webhooks").putObject(app.key())
        .put("endpoint", url).put("max_retries", app.maxRetries());
    return m;
  }

  static void install(int httpPort, String token, List<Workload.App> apps, Function<Workload.App, String> urls)
      throws Exception {
    for (Workload.App app : apps) {
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + "/api/account/"
              + app.account() + "/configuration/app-install/installations?v=1.0"))
          .header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json")
          .timeout(Duration.ofSeconds(30))
          .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(manifest(app, urls.apply(app)))))
          .build();
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 201) {
        throw new IllegalStateException("installing " + app.clientId() + ": " + response.statusCode() + " "
            + response.body());
      }
    }
  }

  static void writeRoutes(Path file, List<Workload.App> apps, Function<Workload.App, String> urls) throws Exception {
    ArrayNode routes = JSON.createArrayNode();
    for (Workload.App app : apps) {
      ObjectNode r = routes.addObject();
      r.put("account", app.account());
      r.put("client_id", app.clientId());
      r.put("client_secret", app.secret());
      r.putObject("webhooks").putObject(app.key()).put("endpoint", urls.apply(app)).put("max_retries", app.maxRetries());
    }
    JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), routes);
  }

  static boolean ready(int managementPort) {
    try {
      HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + managementPort + "/health/ready"))
          .timeout(Duration.ofSeconds(2)).build();
      return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }
}
