package dev.webhooks.dispatcher.testing;

import dev.webhooks.dispatcher.install.Installation;
import dev.webhooks.dispatcher.install.InstallationView;
import java.util.List;
import java.util.Optional;

/** An installation view with no app installed: every event routes to nothing. */
public final class NoInstallations implements InstallationView {
  @Override
  public List<Installation> installationsOf(String accountId) {
    return List.of();
  }

  @Override
  public Optional<Installation> find(String installationId) {
    return Optional.empty();
  }
}
