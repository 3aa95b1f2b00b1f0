package dev.webhooks.dispatcher.routing;

import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.delivery.Retry;
import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.InstallationView;
import dev.webhooks.dispatcher.install.Webhook;
import dev.webhooks.dispatcher.intake.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decides who gets an event: every enabled app of the event's account that has a webhook for one of its keys, one
 * delivery per (app, webhook key). Reads the in-memory installation view only; never blocks.
 */
public final class Router {
  private final InstallationView installations;

  public Router(InstallationView installations) {
    this.installations = installations;
  }

  /**
   * Whether routing now decides as the installations topic says, for every account: the cheap check of the hot path.
   * When false, ask {@link #canRoute(String)} of the account at hand.
   */
  public boolean canRoute() {
    return installations.isComplete();
  }

  /**
   * Whether routing decides as the installations topic says for {@code accountId}. False while the view lacks one of its
   * installations, that it cannot read ({@link InstallationView#isComplete(String)}): routing of the account must wait,
   * or its events would be taken for unrouted.
   */
  public boolean canRoute(String accountId) {
    return installations.isComplete(accountId);
  }

  /**
   * A count that moves whenever an installation becomes unreadable or readable again ({@link
   * InstallationView#completenessChanges}): read it before routing, then ask {@link #canRoute(String)}, then read it
   * again, and route only when the account can be and the count stayed, or an installation that left and came back
   * meanwhile goes without its delivery.
   */
  public long completenessChanges() {
    return installations.completenessChanges();
  }

  /**
   * The delivery a retry makes as the app is installed now (its current endpoint, headers, secrets and {@code
   * max_retries}), or empty when the app is gone, disabled, or has no webhook for the key any more.
   */
  public Optional<Delivery> resume(Retry retry) {
    for (Installation app : installations.installationsOf(retry.accountId())) {
      Webhook webhook = app.webhooks().get(retry.webhookKey());
      if (app.clientId().equals(retry.clientId()) && app.enabled() && webhook != null) {
        return Optional.of(
            new Delivery(retry.webhookId(), app, retry.webhookKey(), webhook, retry.body(), retry.source()));
      }
    }
    return Optional.empty();
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
