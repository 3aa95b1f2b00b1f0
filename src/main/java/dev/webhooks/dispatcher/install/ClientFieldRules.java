package dev.webhooks.dispatcher.install;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Set;

/**
 * The manifest's OAuth client fields (RFC 7591 names) as the spec limits them: {@code grant_types},
 * {@code redirect_uris}, {@code response_types}, {@code scope} and {@code logo_uri}. Pure, like the validator.
 */
final class ClientFieldRules {
  private static final int REDIRECT_URI_MAX = 128;
  private static final int SCOPE_MAX = 128;
  private static final int LOGO_URI_MAX = 1024;
  private static final Set<String> GRANT_TYPES = Set.of("client_credentials");
  private static final Set<String> RESPONSE_TYPES = Set.of("code");
  private static final Set<String> SCOPES = Set.of("msg.consumer");

  private ClientFieldRules() {}

  static void validate(JsonNode manifest, List<Violation> out) {
    JsonNode grants = manifest.get("grant_types");
    if (grants != null) {
      Values.arrayOf("grant_types", grants, GRANT_TYPES, false, out);
    }
    JsonNode responses = manifest.get("response_types");
    if (responses != null) {
      // DESIGN 1.5: the table says array, the spec's example sends a string; both are accepted.
      Values.stringOrArrayOf("response_types", responses, RESPONSE_TYPES, out);
    }
    JsonNode redirects = manifest.get("redirect_uris");
    if (redirects != null) {
      redirectUris(redirects, out);
    }
    JsonNode scope = manifest.get("scope");
    if (scope != null) {
      scope(scope, out);
    }
    JsonNode logo = manifest.get("logo_uri");
    if (logo != null) {
      logoUri(logo, out);
    }
  }

  private static void redirectUris(JsonNode redirects, List<Violation> out) {
    if (!redirects.isArray()) {
      out.add(new Violation("redirect_uris", "must be an array of URIs"));
      return;
    }
    for (int i = 0; i < redirects.size(); i++) {
      String path = "redirect_uris[" + i + "]";
      JsonNode uri = redirects.get(i);
      if (!uri.isTextual()) {
        out.add(new Violation(path, "must be a string"));
      } else if (uri.textValue().length() > REDIRECT_URI_MAX) {
        out.add(new Violation(path, "must be at most " + REDIRECT_URI_MAX + " characters long, was "
            + uri.textValue().length()));
      } else if (!absolute(uri.textValue())) {
        out.add(new Violation(path, "must be an absolute URI such as https://app.example/callback"));
      }
    }
  }

  private static void scope(JsonNode scope, List<Violation> out) {
    if (!scope.isTextual()) {
      out.add(new Violation("scope", "must be a string of space-separated scopes"));
      return;
    }
    String text = scope.textValue();
    if (text.length() > SCOPE_MAX) {
      out.add(new Violation("scope", "must be at most " + SCOPE_MAX + " characters long, was " + text.length()));
      return;
    }
    for (String value : text.trim().split(" +")) {
      if (!value.isEmpty() && !SCOPES.contains(value)) {
        out.add(new Violation("scope", "'" + value + "' is not a supported scope; supported: msg.consumer"));
      }
    }
  }

  /** DESIGN 1.5: a path (the spec's example uses one) or an absolute https URL. */
  private static void logoUri(JsonNode logo, List<Violation> out) {
    if (!logo.isTextual()) {
      out.add(new Violation("logo_uri", "must be a string"));
      return;
    }
    String text = logo.textValue();
    if (text.length() > LOGO_URI_MAX) {
      out.add(new Violation("logo_uri", "must be at most " + LOGO_URI_MAX + " characters long, was " + text.length()));
      return;
    }
    try {
      URI uri = new URI(text);
      boolean path = uri.getScheme() == null && uri.getRawAuthority() == null && !text.isEmpty();
      boolean https = "https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null;
      if (!path && !https) {
        out.add(new Violation("logo_uri", "must be a path such as /img/logo.png or an https:// URL"));
      }
    } catch (URISyntaxException e) {
      out.add(new Violation("logo_uri", "must be a path such as /img/logo.png or an https:// URL"));
    }
  }

  private static boolean absolute(String text) {
    try {
      URI uri = new URI(text);
      return uri.isAbsolute() && (uri.getHost() != null || !uri.isOpaque());
    } catch (URISyntaxException e) {
      return false;
    }
  }
}
