package dev.webhooks.dispatcher.ops;

import dev.webhooks.dispatcher.delivery.DeadLetter;
import dev.webhooks.dispatcher.delivery.Delivery;
import dev.webhooks.dispatcher.delivery.DeliveryListener;
import dev.webhooks.dispatcher.delivery.DeliveryOutcome;
import dev.webhooks.dispatcher.delivery.Retry;
import java.time.Duration;
import java.util.List;

/**
 * Several listeners heard as one, in order (the courier takes one). Each call reaches every listener even when an
 * earlier one throws: a failing log line must not cost a metric, nor the other way round.
 */
public final class Listeners implements DeliveryListener {
  private final List<DeliveryListener> listeners;

  private Listeners(List<DeliveryListener> listeners) {
    this.listeners = listeners;
  }

  public static DeliveryListener of(DeliveryListener... listeners) {
    return new Listeners(List.of(listeners));
  }

  @Override
  public void started(Delivery delivery) {
    each(l -> l.started(delivery));
  }

  @Override
  public void attempted(Delivery delivery, int attempt, DeliveryOutcome outcome, Duration took) {
    each(l -> l.attempted(delivery, attempt, outcome, took));
  }

  @Override
  public void deferred(Delivery delivery, int attempt, int deferral, DeliveryOutcome heldBack) {
    each(l -> l.deferred(delivery, attempt, deferral, heldBack));
  }

  @Override
  public void resumed(Retry retry) {
    each(l -> l.resumed(retry));
  }

  @Override
  public void retryScheduled(Delivery delivery, int attempt, Duration delay) {
    each(l -> l.retryScheduled(delivery, attempt, delay));
  }

  @Override
  public void delivered(Delivery delivery, int attempts) {
    each(l -> l.delivered(delivery, attempts));
  }

  @Override
  public void deadLettered(DeadLetter deadLetter) {
    each(l -> l.deadLettered(deadLetter));
  }

  @Override
  public void connectionsChanged(int delta) {
    each(l -> l.connectionsChanged(delta));
  }

  private void each(java.util.function.Consumer<DeliveryListener> call) {
    RuntimeException first = null;
    for (DeliveryListener listener : listeners) {
      try {
        call.accept(listener);
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first; // the courier logs it and carries on
    }
  }
}
