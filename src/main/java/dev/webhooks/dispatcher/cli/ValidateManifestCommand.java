package dev.webhooks.dispatcher.cli;

import dev.webhooks.dispatcher.install.ManifestValidator;
import dev.webhooks.dispatcher.install.Violation;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code validate-manifest FILE}: the App Install API's manifest rules for app developers, offline. Prints every
 * violation with its path and exits 1, or prints OK and exits 0. No Kafka, no network.
 */
final class ValidateManifestCommand {
  static final String USAGE = "validate-manifest FILE";

  private ValidateManifestCommand() {}

  static int run(List<String> args, PrintStream out, PrintStream err) {
    if (args.size() != 1 || args.get(0).startsWith("-")) {
      throw new UsageException("give exactly one manifest file");
    }
    Path file = Path.of(args.get(0));
    byte[] json;
    try {
      json = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      err.println("validate-manifest: " + file + ": no such file");
      return 1;
    } catch (IOException e) {
      err.println("validate-manifest: " + file + ": cannot be read: " + e.getMessage());
      return 1;
    }
    List<Violation> violations = new ManifestValidator().validateDocument(json);
    if (violations.isEmpty()) {
      out.println("OK: " + file + " is a valid app manifest"
          + " (endpoint addresses and the logo are checked when it is installed)");
      return 0;
    }
    out.println(file + ": " + violations.size() + " problem(s)");
    for (Violation v : violations) {
      out.println("  " + v.path() + ": " + v.message());
    }
    return 1;
  }
}
