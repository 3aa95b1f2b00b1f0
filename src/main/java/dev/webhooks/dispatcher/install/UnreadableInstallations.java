package dev.webhooks.dispatcher.install;

import dev.webhooks.dispatcher.config.ConfigException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The installations whose latest record this instance cannot open because their client secrets were sealed with another
 * secrets key. While there is one, the view is not the topic's: an event of its account would be taken for unrouted
 * and committed, lost. So at start-up it stops the start as a configuration error, and later it holds routing (see
 * {@link InstallationView#isComplete}) until a later record of that installation (a rewrite or a delete) can be read.
 * Written by the store's reader thread only; read from any thread.
 */
final class UnreadableInstallations {
  /** Enough ids to find the records; a lost key makes every installation unreadable, and the message stays short. */
  private static final int IDS_NAMED = 5;

  private final String keySource;
  /** Installation id to where its unreadable record is ({@code topic-partition@offset}); sorted for stable messages. */
  private final Map<String, String> byId = new ConcurrentSkipListMap<>();

  UnreadableInstallations(String keySource) {
    this.keySource = keySource;
  }

  /** Notes that the latest record of {@code id}, at {@code where}, cannot be opened with this instance's key. */
  void add(String id, String where) {
    byId.put(id, where);
  }

  /** Notes that {@code id}'s latest record was read (or deleted it); true when that made every installation readable. */
  boolean remove(String id) {
    return byId.remove(id) != null && byId.isEmpty();
  }

  boolean isEmpty() {
    return byId.isEmpty();
  }

  /** The start-up error: which installations, which key, and what to do. */
  ConfigException startUpError() {
    List<String> ids = byId.keySet().stream().limit(IDS_NAMED).toList();
    String more = byId.size() > IDS_NAMED ? " and " + (byId.size() - IDS_NAMED) + " more" : "";
    return new ConfigException(key() + " cannot open the client secrets of " + byId.size() + " installation"
        + (byId.size() == 1 ? "" : "s") + " (" + String.join(", ", ids) + more + "): they were written with another"
        + " key. Restore the key the installations were written with and start again; nothing was consumed.");
  }

  /** The runtime error for one installation written by an instance with another key. */
  String runtimeError(String id, String where) {
    return "Installation " + id + " at " + where + " cannot be read: its client secret does not authenticate with "
        + key() + ", so an instance with another SECRETS_KEY wrote it. This instance is not ready and routes no event"
        + " (nothing is committed or lost) until the installation is imported again (its client_id and client_secret)"
        + " through an instance with this key, or deleted through the one that wrote it; give every instance the same"
        + " SECRETS_KEY (see the runbook in docs/OPERATIONS.md).";
  }

  private String key() {
    return keySource.equals("SECRETS_KEY")
        ? "the secrets key in SECRETS_KEY"
        : "the secrets key in " + keySource + " (used because SECRETS_KEY is unset)";
  }
}
