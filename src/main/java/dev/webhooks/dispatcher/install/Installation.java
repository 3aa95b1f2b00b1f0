package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * An app installed on an account, as the dispatcher uses it.
 *
 * @param id the installation id, which is also the app's client id
 * @param accountId the account the app is installed on
 * @param enabled whether the app receives deliveries
 * @param webhooks the app's webhooks by canonical webhook key
 * @param signingSecrets the client secrets to sign with, current first (two during a rotation)
 * @param manifest the manifest as installed, unknown fields kept, without credentials
 * @param issuedAt when the client id was issued, epoch seconds
 * @param revision the {@code ac-revision} of this state
 */
public record Installation(
    String id,
    String accountId,
    boolean enabled,
    Map<String, Webhook> webhooks,
    List<String> signingSecrets,
    ObjectNode manifest,
    long issuedAt,
    String revision) {
  public Installation {
    webhooks = Map.copyOf(webhooks);
    signingSecrets = List.copyOf(signingSecrets);
  }

  public String clientId() {
    return id;
  }

  /** The secret the {@code x-liveperson-signature} uses: always the newest. */
  public String currentSecret() {
    return signingSecrets.get(0);
  }
}
