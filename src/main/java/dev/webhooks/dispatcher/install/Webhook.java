package dev.webhooks.dispatcher.install;

import java.util.List;

/**
 * Where one event type of one app is delivered: the endpoint verbatim (query string included), how many retries follow
 * a failed first attempt (0..5), and the custom headers to send.
 */
public record Webhook(String endpoint, int maxRetries, List<Header> headers) {
  public Webhook {
    headers = List.copyOf(headers);
  }
}
