package dev.webhooks.dispatcher.cli;

import dev.webhooks.dispatcher.cli.SignatureCheck.Result;
import dev.webhooks.dispatcher.cli.SignatureCheck.Verdict;
import io.vertx.core.MultiMap;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Prints one received delivery as a readable block: request line, dispatcher headers, custom headers, body, checks. */
final class DeliveryPrinter {
  /** Long bodies are cut so one event never floods the terminal. */
  private static final int MAX_BODY_CHARS = 4000;
  /** Headers any HTTP client sends; everything else that is not ours came from the manifest. */
  private static final Set<String> TRANSPORT_HEADERS =
      Set.of("host", "content-type", "content-length", "user-agent", "connection", "accept", "accept-encoding",
          "transfer-encoding", "keep-alive");

  private final Optional<String> secret;
  private final PrintStream out;
  private final Clock clock;

  DeliveryPrinter(Optional<String> secret, PrintStream out, Clock clock) {
    this.secret = secret;
    this.out = out;
    this.clock = clock;
  }

  void print(String method, String uri, MultiMap headers, byte[] body, int status) {
    Instant now = clock.instant();
    Instant shown = now.truncatedTo(ChronoUnit.MILLIS);
    StringBuilder b = new StringBuilder();
    String n = System.lineSeparator();
    b.append("==> ").append(shown).append("  ").append(method).append(' ').append(uri)
        .append("  (answered ").append(status).append(')').append(n);
    for (Map.Entry<String, String> h : headers) {
      if (isDispatcherHeader(h.getKey())) {
        b.append("    ").append(h.getKey().toLowerCase(Locale.ROOT)).append(": ").append(h.getValue()).append(n);
      }
    }
    StringBuilder custom = new StringBuilder();
    for (Map.Entry<String, String> h : headers) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      if (!isDispatcherHeader(name) && !TRANSPORT_HEADERS.contains(name)) {
        custom.append("      ").append(h.getKey()).append(": ").append(h.getValue()).append(n);
      }
    }
    b.append("    custom headers:").append(custom.length() == 0 ? " none" + n : n + custom);
    String text = new String(body, StandardCharsets.UTF_8);
    b.append("    body (").append(body.length).append(" bytes, ")
        .append(Optional.ofNullable(headers.get("content-type")).orElse("no content-type")).append("):").append(n)
        .append("      ").append(text.length() > MAX_BODY_CHARS ? text.substring(0, MAX_BODY_CHARS) + " ...(cut)" : text)
        .append(n);
    b.append(checks(headers, body, now));
    b.append(n);
    out.print(b);
    out.flush();
  }

  void printFailure(String method, String uri, Throwable failure) {
    out.println("==> " + clock.instant().truncatedTo(ChronoUnit.MILLIS) + "  " + method + " " + uri + "  request failed: " + failure.getMessage());
  }

  private String checks(MultiMap headers, byte[] body, Instant now) {
    String n = System.lineSeparator();
    if (secret.isEmpty()) {
      return "    signatures: not checked (no --secret)" + n;
    }
    Result result =
        SignatureCheck.check(secret.get(), body, headers.get("x-liveperson-signature"), headers.get("webhook-id"),
            headers.get("webhook-timestamp"), headers.get("webhook-signature"), now);
    StringBuilder b = new StringBuilder();
    b.append("    x-liveperson-signature: ").append(describe(result.liveperson())).append(n);
    b.append("    webhook-signature:      ").append(describe(result.standard())).append(n);
    result.timestampWarning().ifPresent(w -> b.append("    WARNING: ").append(w).append(n));
    return b.toString();
  }

  private static String describe(Verdict verdict) {
    return switch (verdict) {
      case VALID -> "OK, verified with your secret";
      case INVALID -> "MISMATCH: wrong secret, or the body was changed on the way";
      case MISSING -> "MISSING";
    };
  }

  private static boolean isDispatcherHeader(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return lower.startsWith("x-liveperson-") || lower.startsWith("webhook-");
  }
}
