package dev.webhooks.dispatcher.delivery;

import dev.webhooks.dispatcher.config.ConfigException;
import io.vertx.core.net.TrustOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Optional;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** The certificate authorities deliveries trust: the JDK's default CAs plus, optionally, the CAs of a PEM file. */
public final class Trust {
  private Trust() {}

  /**
   * Empty means the JDK defaults alone; there is deliberately no way to trust everything. A missing or unreadable file
   * stops start-up with a {@link ConfigException} naming the variable.
   */
  public static Optional<TrustOptions> withExtraCas(Optional<Path> pem) {
    if (pem.isEmpty()) {
      return Optional.empty();
    }
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int n = 0;
      for (X509Certificate ca : defaultTrustManager().getAcceptedIssuers()) {
        store.setCertificateEntry("jdk-" + n++, ca);
      }
      Collection<? extends Certificate> extra;
      try (InputStream in = Files.newInputStream(pem.get())) {
        extra = CertificateFactory.getInstance("X.509").generateCertificates(in);
      }
      if (extra.isEmpty()) {
        throw new ConfigException("DELIVERY_TRUSTED_CA_PEM " + pem.get() + " holds no certificate");
      }
      for (Certificate ca : extra) {
        store.setCertificateEntry("extra-" + n++, ca);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      return Optional.of(TrustOptions.wrap(factory));
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException("DELIVERY_TRUSTED_CA_PEM " + pem.get() + " cannot be read: " + e.getMessage());
    }
  }

  private static X509TrustManager defaultTrustManager() throws GeneralSecurityException {
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init((KeyStore) null);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new IllegalStateException("the JDK has no X.509 trust manager");
  }
}
