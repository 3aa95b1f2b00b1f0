package dev.webhooks.dispatcher;

import io.vertx.core.net.KeyCertOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A self-signed certificate for {@code localhost} and its private key, made in memory for a receiver on the loopback
 * address and trusted by nothing but the client that is told of it. EC P-256, made with BouncyCastle: about 0.3 s in a
 * JVM just started, where the RSA certificates of Netty's test utility took 0.7 s.
 *
 * @param privateKey the certificate's private key
 * @param certificate the certificate
 */
record LoopbackCertificate(PrivateKey privateKey, X509Certificate certificate) {
  private static final Duration VALIDITY = Duration.ofDays(1);
  /** Protects the key in a key store that lives in this object's memory only. */
  private static final char[] IN_MEMORY = "loopback".toCharArray();

  /** Makes the key and the certificate; blocks for a moment. */
  static LoopbackCertificate create() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair keys = generator.generateKeyPair();
      X500Name name = new X500Name("CN=localhost");
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
          new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofMinutes(5))),
          Date.from(now.plus(VALIDITY)), name, keys.getPublic());
      builder.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, "localhost")));
      X509Certificate certificate = new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
      return new LoopbackCertificate(keys.getPrivate(), certificate);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make a certificate for the loopback receiver", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The certificate as PEM, for a client's trust. */
  String certificatePem() {
    try {
      return "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certificate.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode the loopback certificate", e);
    }
  }

  /**
   * The key and certificate for a server, as a key manager. Not as PEM: Vert.x would put a PEM key in a PKCS#12 store,
   * which protects it with 10,000 rounds of PBKDF2 each way, about 0.2 s of a cold start and a C2 compilation on the
   * path to ready (load-tests/README.md, "Round 10"). A JKS store in memory protects it with a few hashes. Makes a
   * key store: call it off the event loops.
   */
  KeyCertOptions keyCertOptions() {
    try {
      KeyStore store = KeyStore.getInstance("JKS");
      store.load(null, null);
      store.setKeyEntry("localhost", privateKey, IN_MEMORY, new Certificate[] {certificate});
      KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, IN_MEMORY);
      return KeyCertOptions.wrap(factory);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot hold the loopback certificate's key", e);
    }
  }
}
