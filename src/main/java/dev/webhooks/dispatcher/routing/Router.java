package dev.webhooks.dispatcher.routing;

import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.InstallationView;
import dev.webhooks.dispatcher.install.Webhook;
import dev.webhooks.dispatcher.intake.Event;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides who gets an event: every enabled app of the event's account that has a webhook for one of its keys, one
 * delivery per (app, webhook key). Reads the in-memory installation view only; never blocks.
 */
public final class Router {
  private final InstallationView installations;

  public Router(InstallationView installations) {
    this.installations = installations;
  }

  /** The deliveries an event produces; empty when no enabled app of its account subscribes to its keys. */
  public List<Delivery> route(Event event) {
    List<Installation> apps = installations.installationsOf(event.accountId());
    if (apps.isEmpty()) {
      return List.of();
    }
    List<Delivery> deliveries = new ArrayList<>(2);
    for (String key : event.webhookKeys()) {
      for (Installation app : apps) {
        Webhook webhook = app.webhooks().get(key);
        if (app.enabled() && webhook != null) {
          String id = WebhookIds.of(event.source(), app.clientId(), key);
          deliveries.add(new Delivery(id, app, key, webhook, event.bodyFor(key), event.source()));
        }
      }
    }
    return deliveries;
  }
}
