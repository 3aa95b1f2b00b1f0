package dev.webhooks.dispatcher.delivery;

import io.netty.handler.ssl.OpenSsl;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS implementation of deliveries: BoringSSL (netty-tcnative) where its native library loads, which costs much
 * less CPU per record and per handshake than the JDK's engine (load-tests/README.md), else the JDK's own. Certificate
 * and host checks are the same either way: both use the JDK trust managers of {@link Trust}.
 */
public final class TlsEngine {
  private static final Logger LOG = LoggerFactory.getLogger(TlsEngine.class);

  private TlsEngine() {}

  /** BoringSSL when {@code preferNative} and it loads here, else the JDK engine (with a warning if native was wanted). */
  public static SSLEngineOptions choose(boolean preferNative) {
    if (preferNative && OpenSsl.isAvailable()) {
      return new OpenSSLEngineOptions();
    }
    if (preferNative) {
      LOG.warn("native TLS (BoringSSL) does not load here, so deliveries use the JDK's TLS: {}",
          String.valueOf(OpenSsl.unavailabilityCause()));
    }
    return new JdkSSLEngineOptions();
  }
}
