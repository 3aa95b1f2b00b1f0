package dev.webhooks.dispatcher.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The App Install API as a test's client calls it: over HTTP, with the admin token. */
public record InstallClient(int port, String adminToken) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  /** A request of a test never waits forever: a lost answer fails the test instead of hanging the build. */
  private static final long ANSWER_WITHIN_S = 60;

  /** Installs {@code manifest} for {@code account}; the answer carries client_id and client_secret. */
  public JsonNode install(String account, String manifest) {
    HttpResponse<String> response = installRaw(account, manifest);
    if (response.statusCode() != 201) {
      throw new AssertionError("install answered " + response.statusCode() + ": " + response.body());
    }
    return parse(response.body());
  }

  public HttpResponse<String> installRaw(String account, String manifest) {
    return send(HttpRequest.newBuilder(installations(account))
        .header("Authorization", "Bearer " + adminToken)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(manifest))
        .build());
  }

  /** The account's installations, as the API lists them. */
  public JsonNode list(String account) {
    HttpResponse<String> response = send(HttpRequest.newBuilder(installations(account))
        .header("Authorization", "Bearer " + adminToken)
        .build());
    if (response.statusCode() != 200) {
      throw new AssertionError("list answered " + response.statusCode() + ": " + response.body());
    }
    return parse(response.body());
  }

  /** One installation, as the API reads it; null when it answers 404. */
  public JsonNode read(String account, String id) {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(installations(account) + "/" + id))
        .header("Authorization", "Bearer " + adminToken)
        .build());
    if (response.statusCode() == 404) {
      return null;
    }
    if (response.statusCode() != 200) {
      throw new AssertionError("read answered " + response.statusCode() + ": " + response.body());
    }
    return parse(response.body());
  }

  /** Rotates the app's client secret; the answer carries the new one. */
  public JsonNode rotateSecret(String account, String id) {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(installations(account) + "/" + id + "/secret"))
        .header("Authorization", "Bearer " + adminToken)
        .POST(HttpRequest.BodyPublishers.noBody())
        .build());
    if (response.statusCode() != 200) {
      throw new AssertionError("rotation answered " + response.statusCode() + ": " + response.body());
    }
    return parse(response.body());
  }

  public static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + json, e);
    }
  }

  /** Sends a request of a test's own; I/O failures, and no answer within a minute, are the test's failures. */
  public static HttpResponse<String> send(HttpRequest request) {
    try {
      return HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString()).get(ANSWER_WITHIN_S, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw new UncheckedIOException("request to " + request.uri() + " failed", io);
      }
      throw new IllegalStateException("request to " + request.uri() + " failed", e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("no answer to " + request.method() + " " + request.uri() + " within " + ANSWER_WITHIN_S
          + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private URI installations(String account) {
    return URI.create("http://localhost:" + port + "/api/account/" + account + "/configuration/app-install/installations");
  }
}
