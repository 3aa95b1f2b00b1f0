package dev.webhooks.dispatcher.install;

import java.util.List;
import java.util.Optional;

/** The installations this instance knows, kept in memory and followed live from the installations topic. */
public interface InstallationView {

  /** Every installation of an account, enabled or not; empty when it has none. Never blocks. */
  List<Installation> installationsOf(String accountId);

  Optional<Installation> find(String installationId);
}
