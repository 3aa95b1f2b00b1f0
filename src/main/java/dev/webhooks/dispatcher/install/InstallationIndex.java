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

  void put(StoredInstallation stored, Installation installation) {
    String id = installation.id();
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
