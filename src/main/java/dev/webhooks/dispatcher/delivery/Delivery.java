package dev.webhooks.dispatcher.delivery;

import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.Webhook;
import dev.webhooks.dispatcher.install.WebhookKeys;
import io.vertx.core.buffer.Buffer;

/**
 * One POST to make: a record's changes for one webhook of one app. Everything an attempt needs is here, so an attempt
 * never consults shared state.
 *
 * @param webhookId the Standard Webhooks id, stable across retries and across redelivery of the same record
 * @param app the installation as it was when the record was routed
 * @param webhookKey the canonical webhook key
 * @param webhook the app's webhook for that key
 * @param body the exact bytes to POST
 * @param source the Kafka record it comes from
 */
public record Delivery(String webhookId, Installation app, String webhookKey, Webhook webhook, Buffer body, Source source) {

  public String eventType() {
    return WebhookKeys.eventType(webhookKey);
  }
}
