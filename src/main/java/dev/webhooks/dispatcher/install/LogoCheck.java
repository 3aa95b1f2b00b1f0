package dev.webhooks.dispatcher.install;

import io.vertx.core.Future;

/** DESIGN 1.5's logo rule: an https {@code logo_uri} that can be fetched must be a 70x70 image. */
public interface LogoCheck {
  /** The spec's one size. */
  int SIDE = 70;

  /** What fetching the logo showed. */
  sealed interface Finding permits Fits, WrongSize, NotChecked {}

  /** A 70x70 image, or nothing to check (a path, as in the spec's example). */
  record Fits() implements Finding {}

  /** An image of another size (or not an image at all): the install is refused. */
  record WrongSize(String message) implements Finding {}

  /** It could not be fetched or read: the install is accepted with this warning. */
  record NotChecked(String message) implements Finding {}

  /** Never fails: every outcome is a finding. */
  Future<Finding> check(String logoUri);

  /** Checks nothing; for API tests that are not about logos. */
  LogoCheck NONE = logoUri -> Future.succeededFuture(new Fits());
}
