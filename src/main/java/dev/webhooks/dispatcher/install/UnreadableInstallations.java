package dev.webhooks.dispatcher.install;

import dev.webhooks.dispatcher.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The installations whose latest record this instance cannot open because their client secrets were sealed with another
 * secrets key (the record parses; only its secrets do not open), with their accounts. While there is one, the view is
 * not the topic's for that account: its events would be taken for unrouted and committed, lost. So at start-up it stops
 * the start as a configuration error, and later it holds routing of that account only (see {@link
 * InstallationView#isComplete(String)}) until a later record of that installation (a rewrite or a delete) can be read.
 * Every other account routes on, and the instance stays ready, so the API that fixes it stays reachable. Written by
 * the store's reader thread only; read from any thread.
 */
final class UnreadableInstallations {
  /** Enough ids to find the records; a lost key makes every installation unreadable, and the message stays short. */
  private static final int IDS_NAMED = 5;

  private final String keySource;
  private final String keyId;
  /** Installation id to its account and unreadable record; sorted for stable messages. */
  private final Map<String, Unreadable> byId = new ConcurrentSkipListMap<>();
  /** Account id to how many of its installations are unreadable; never holds a zero. */
  private final Map<String, Integer> byAccount = new ConcurrentHashMap<>();
  /** How often an installation became unreadable or readable again; see {@link #changes}. */
  private final AtomicLong changes = new AtomicLong();

  /**
   * @param where the record, {@code topic-partition@offset}
   * @param keyIds the key ids its signing secrets were stored with (null where a record has none)
   */
  private record Unreadable(String accountId, String where, List<String> keyIds) {
    /** Stored with key ids, all of them {@code keyId}: sealed with this key, so not a key mix-up. */
    boolean sealedWith(String keyId) {
      return !keyIds.isEmpty() && keyIds.stream().allMatch(keyId::equals);
    }

    /** The ids, other than {@code keyId}, that its secrets were stored with. */
    Stream<String> otherKeyIds(String keyId) {
      return keyIds.stream().filter(k -> k != null && !k.equals(keyId));
    }
  }

  /** @param keyId this instance's {@link SecretCipher#keyId}, named in the messages */
  UnreadableInstallations(String keySource, String keyId) {
    this.keySource = keySource;
    this.keyId = keyId;
  }

  /**
   * Notes that the latest record of {@code id}, of account {@code accountId} at {@code where}, cannot be opened with this
   * instance's key; {@code keyIds} are those its signing secrets were stored with. The account counts as affected
   * before this returns.
   */
  void add(String id, String accountId, String where, List<String> keyIds) {
    changes.incrementAndGet(); // before the index loses it: see changes()
    byAccount.merge(accountId, 1, Integer::sum); // first: a reader that sees the entry sees its account held
    Unreadable previous = byId.put(id, new Unreadable(accountId, where, new ArrayList<>(keyIds)));
    if (previous != null) {
      unlist(previous.accountId());
    }
  }

  /**
   * Notes that {@code id}'s latest record was read (or deleted it); answers the account it held, empty when it was not
   * unreadable.
   */
  Optional<String> remove(String id) {
    if (!byId.containsKey(id)) { // only the store's reader writes: it is still there below
      return Optional.empty();
    }
    changes.incrementAndGet(); // after the index has it again, before anything says its account is whole: changes()
    Unreadable removed = byId.remove(id);
    unlist(removed.accountId());
    return Optional.of(removed.accountId());
  }

  /**
   * How often an installation became unreadable, or readable again, so far: raised before the index loses one and
   * before the account of one that came back is let go. A router that reads the count, looks at an account's
   * installations, finds the account not held ({@link #affects}), and then reads the same count, saw them as they are:
   * one that was gone while it looked and is back now shows as a count that moved. One volatile read.
   */
  long changes() {
    return changes.get();
  }

  /** Cheap: whether every installation can be read, as it is but for a key mix-up. */
  boolean isEmpty() {
    return byId.isEmpty();
  }

  /** Whether an installation of {@code accountId} cannot be read. */
  boolean affects(String accountId) {
    return !byAccount.isEmpty() && byAccount.containsKey(accountId);
  }

  int size() {
    return byId.size();
  }

  /**
   * The start-up error: which installations, which keys, and what to do; those sealed with this key (copied or
   * altered, which no key opens) are named apart from those written with another key.
   */
  ConfigException startUpError() {
    List<String> copied = byId.entrySet().stream().filter(e -> e.getValue().sealedWith(keyId)).map(Map.Entry::getKey)
        .toList();
    Set<String> others = new TreeSet<>();
    byId.values().forEach(u -> u.otherKeyIds(keyId).forEach(others::add));
    String sealedHere = "sealed with this key (key id " + keyId + "), yet they do not open for their installation ids:"
        + " their records were copied between installations or altered, and no key opens them; delete those records"
        + " from the topic (a tombstone per id)";
    String what = copied.size() == byId.size()
        ? "they were " + sealedHere + " and start again"
        : "they were written with another key (" + (others.isEmpty() ? "" : "key id " + String.join(", ", others)
            + "; ") + "this key's id is " + keyId + "). Restore the key the installations were written with and start"
            + " again" + (copied.isEmpty() ? "" : ". Besides, the records of " + named(copied) + " were " + sealedHere);
    return new ConfigException(key() + " cannot open the client secrets of " + byId.size() + " installation"
        + (byId.size() == 1 ? "" : "s") + " (" + named(List.copyOf(byId.keySet())) + "): " + what
        + "; nothing was consumed.");
  }

  private static String named(List<String> ids) {
    String more = ids.size() > IDS_NAMED ? " and " + (ids.size() - IDS_NAMED) + " more" : "";
    return String.join(", ", ids.subList(0, Math.min(ids.size(), IDS_NAMED))) + more;
  }

  /** The runtime error for one installation whose record does not open: written with another key, or copied. */
  String runtimeError(String id, String where) {
    Unreadable u = byId.get(id);
    String holds = " This instance routes no event of account " + u.accountId() + " (they wait, uncommitted, nothing"
        + " is lost; other accounts are served) until the installation is imported again (its client_id and"
        + " client_secret) through an instance with this key, or deleted";
    if (u.sealedWith(keyId)) {
      return "Installation " + id + " at " + where + " cannot be read: its client secret was sealed with this key (key"
          + " id " + keyId + ") but not for this installation id: its record was copied from another installation, or"
          + " altered." + holds + " (see the runbook in docs/OPERATIONS.md).";
    }
    List<String> others = u.otherKeyIds(keyId).distinct().toList();
    return "Installation " + id + " at " + where + " cannot be read: its client secret does not authenticate with "
        + key() + " (key id " + keyId + ")" + (others.isEmpty() ? "" : "; it was sealed with key id "
        + String.join(", ", others)) + ", so an instance with another SECRETS_KEY wrote it." + holds
        + " through the one that wrote it; give every instance the same SECRETS_KEY (see the runbook in"
        + " docs/OPERATIONS.md).";
  }

  private void unlist(String accountId) {
    byAccount.computeIfPresent(accountId, (account, count) -> count == 1 ? null : count - 1);
  }

  private String key() {
    return keySource.equals("SECRETS_KEY")
        ? "the secrets key in SECRETS_KEY"
        : "the secrets key in " + keySource + " (used because SECRETS_KEY is unset)";
  }
}
