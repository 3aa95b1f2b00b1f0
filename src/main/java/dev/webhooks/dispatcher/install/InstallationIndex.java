package dev.webhooks.dispatcher.install;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The loaded installations by id and by account. One thread writes (the reader); any thread reads without blocking.
 * An account's list is immutable and replaced whole, so a reader sees it before or after a change, never during.
 */
final class InstallationIndex {
  private record Loaded(StoredInstallation stored, Installation installation) {}

  private final ConcurrentHashMap<String, Loaded> byId = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, List<Installation>> byAccount = new ConcurrentHashMap<>();
  /** When the next rotated-out secret stops signing, epoch seconds; only the writing thread uses it. */
  private long nextExpiry = Long.MAX_VALUE;

  void put(StoredInstallation stored, Installation installation) {
    String id = installation.id();
    nextExpiry = Math.min(nextExpiry, stored.nextExpiry(0));
    Loaded previous = byId.put(id, new Loaded(stored, installation));
    if (previous != null && !previous.stored().accountId().equals(stored.accountId())) {
      unlist(previous.stored().accountId(), id);
    }
    byAccount.compute(stored.accountId(), (account, list) -> {
      List<Installation> next = new ArrayList<>(list == null ? List.of() : list);
      next.removeIf(i -> i.id().equals(id));
      next.add(installation);
      return List.copyOf(next);
    });
  }

  void remove(String id) {
    Loaded previous = byId.remove(id);
    if (previous != null) {
      unlist(previous.stored().accountId(), id);
    }
  }

  List<Installation> installationsOf(String accountId) {
    return byAccount.getOrDefault(accountId, List.of());
  }

  Optional<Installation> find(String id) {
    return Optional.ofNullable(byId.get(id)).map(Loaded::installation);
  }

  Optional<StoredInstallation> stored(String id) {
    return Optional.ofNullable(byId.get(id)).map(Loaded::stored);
  }

  /**
   * Opens again every installation whose previous secret expired by {@code now}, so that it no longer signs. Cheap
   * when nothing is due: one comparison. Called by the one writing thread.
   */
  void expire(long nowSeconds, java.util.function.BiFunction<String, StoredInstallation, Installation> open) {
    if (nowSeconds < nextExpiry) {
      return;
    }
    long next = Long.MAX_VALUE;
    for (Loaded loaded : List.copyOf(byId.values())) {
      StoredInstallation stored = loaded.stored();
      if (loaded.installation().signingSecrets().size() != stored.signingCount(nowSeconds)) {
        put(stored, open.apply(loaded.installation().id(), stored));
      }
      next = Math.min(next, stored.nextExpiry(nowSeconds));
    }
    nextExpiry = next;
  }

  int size() {
    return byId.size();
  }

  Map<String, Long> countsByState() {
    long enabled = byId.values().stream().filter(l -> l.installation().enabled()).count();
    return Map.of("enabled", enabled, "disabled", byId.size() - enabled);
  }

  private void unlist(String accountId, String id) {
    byAccount.computeIfPresent(accountId, (account, list) -> {
      List<Installation> next = list.stream().filter(i -> !i.id().equals(id)).toList();
      return next.isEmpty() ? null : next;
    });
  }
}
