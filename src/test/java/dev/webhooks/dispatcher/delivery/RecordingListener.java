package dev.webhooks.dispatcher.delivery;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records every listener call as a line, e.g. {@code attempted 2 http-status}, for assertions. */
final class RecordingListener implements DeliveryListener {
  final List<String> events = new CopyOnWriteArrayList<>();
  final List<Duration> retryDelays = new CopyOnWriteArrayList<>();
  final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();

  @Override
  public void started(Delivery delivery) {
    events.add("started");
  }

  @Override
  public void attempted(Delivery delivery, int attempt, DeliveryOutcome outcome, Duration took) {
    events.add("attempted " + attempt + " " + outcome.statusClass());
  }

  @Override
  public void deferred(Delivery delivery, int attempt, int deferral, DeliveryOutcome heldBack) {
    events.add("deferred " + attempt + " " + deferral);
  }

  @Override
  public void resumed(Retry retry) {
    events.add("resumed " + retry.attempts());
  }

  @Override
  public void retryScheduled(Delivery delivery, int attempt, Duration delay) {
    events.add("retryScheduled " + attempt);
    retryDelays.add(delay);
  }

  @Override
  public void delivered(Delivery delivery, int attempts) {
    events.add("delivered " + attempts);
  }

  @Override
  public void deadLettered(DeadLetter deadLetter) {
    events.add("deadLettered " + deadLetter.reason());
    deadLetters.add(deadLetter);
  }
}
