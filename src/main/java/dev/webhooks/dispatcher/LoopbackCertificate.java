package dev.webhooks.dispatcher;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A self-signed certificate for {@code localhost} and its private key, made in memory for a receiver on the loopback
 * address and trusted by nothing but the client that is told of it. EC P-256, made with BouncyCastle: about 0.3 s in a
 * JVM just started, where the RSA certificates of Netty's test utility took 0.7 s.
 *
 * @param privateKeyPem its PKCS#8 private key, PEM
 * @param certificatePem the certificate, PEM
 */
record LoopbackCertificate(String privateKeyPem, String certificatePem) {
  private static final Duration VALIDITY = Duration.ofDays(1);

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
      X509CertificateHolder certificate =
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
      return new LoopbackCertificate(
          pem("PRIVATE KEY", keys.getPrivate().getEncoded()), pem("CERTIFICATE", certificate.getEncoded()));
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make a certificate for the loopback receiver", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  PemKeyCertOptions keyCertOptions() {
    return new PemKeyCertOptions()
        .setCertValue(Buffer.buffer(certificatePem))
        .setKeyValue(Buffer.buffer(privateKeyPem));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
