package dev.webhooks.dispatcher.install;

import java.util.List;
import java.util.Optional;

/** The installations this instance knows, kept in memory and followed live from the installations topic. */
public interface InstallationView {

  /** Every installation of an account, enabled or not; empty when it has none. Never blocks. */
  List<Installation> installationsOf(String accountId);

  Optional<Installation> find(String installationId);

  /**
   * Whether the view serves every installation of the topic as its latest record has it; false while one cannot be read
   * (written with another secrets key). Cheap: the hot path asks it first, and {@link #isComplete(String)} only when not.
   */
  default boolean isComplete() {
    return true;
  }

  /**
   * Whether the view serves every installation of {@code accountId} as its latest record has it. False while one cannot
   * be read: routing of that account must then wait, or its events would be lost as unrouted.
   */
  default boolean isComplete(String accountId) {
    return isComplete();
  }

  /**
   * How often an installation left the view as unreadable, or came back, so far. Routing that reads the count, looks,
   * finds its account complete ({@link #isComplete(String)}), and then reads the same count again, routed as the topic
   * says; a count that moved means an installation may have been missing while it looked, though it is back now.
   */
  default long completenessChanges() {
    return 0;
  }
}
