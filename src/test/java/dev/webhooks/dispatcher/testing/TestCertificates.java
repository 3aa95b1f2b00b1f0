package dev.webhooks.dispatcher.testing;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A test certificate authority and server certificates signed by it, made with BouncyCastle (EC P-256, fast) and
 * written as PEM files to a temporary directory. Point {@code DELIVERY_TRUSTED_CA_PEM} at {@link #caPem()} and serve a
 * {@link Leaf} from a {@link TestReceiver}. {@link #shared()} is one CA per JVM; {@link #create()} makes an unrelated
 * CA, for "untrusted certificate" tests.
 */
public final class TestCertificates {
  private static final Duration VALIDITY = Duration.ofDays(2);
  private static final AtomicLong SERIALS = new AtomicLong(System.currentTimeMillis());
  private static TestCertificates shared;

  private final Path dir;
  private final KeyPair caKeys;
  private final X509Certificate ca;
  private final X500Name caName;
  private final Path caPem;
  private Leaf localhost;

  /**
   * A server certificate and its key.
   *
   * @param certPem PEM file of the certificate
   * @param keyPem PEM file of the PKCS#8 private key
   */
  public record Leaf(X509Certificate certificate, Path certPem, Path keyPem) {
    /** For {@code HttpServerOptions.setKeyCertOptions}. */
    public PemKeyCertOptions keyCertOptions() {
      return new PemKeyCertOptions().setCertPath(certPem.toString()).setKeyPath(keyPem.toString());
    }
  }

  private TestCertificates(String caCommonName) {
    try {
      dir = Files.createTempDirectory("test-certs");
      dir.toFile().deleteOnExit();
      caKeys = keyPair();
      caName = new X500Name("CN=" + caCommonName);
      Instant now = Instant.now();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              caName, serial(), Date.from(now.minus(VALIDITY)), Date.from(now.plus(VALIDITY)), caName, caKeys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      ca = sign(builder);
      caPem = write("ca.pem", pem("CERTIFICATE", ca.getEncoded()));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot make the test CA", e);
    }
  }

  /** The JVM-wide test CA (made once). */
  public static synchronized TestCertificates shared() {
    if (shared == null) {
      shared = new TestCertificates("Webhook Dispatcher Test CA");
    }
    return shared;
  }

  /** A fresh CA that nothing else trusts. */
  public static TestCertificates create() {
    return new TestCertificates("Webhook Dispatcher Test CA " + SERIALS.incrementAndGet());
  }

  /** The CA certificate as a PEM file: the value for {@code DELIVERY_TRUSTED_CA_PEM}. */
  public Path caPem() {
    return caPem;
  }

  public X509Certificate caCertificate() {
    return ca;
  }

  /** Trust in this CA alone, for test clients. */
  public PemTrustOptions trustOptions() {
    return new PemTrustOptions().addCertPath(caPem.toString());
  }

  /** A certificate for {@code localhost}, {@code 127.0.0.1} and {@code ::1} (made once per CA). */
  public synchronized Leaf localhost() {
    if (localhost == null) {
      localhost = leaf("localhost", "127.0.0.1", "::1");
    }
    return localhost;
  }

  /** A currently valid certificate for the given DNS names and IP literals (the first is also the CN). */
  public Leaf leaf(String... names) {
    Instant now = Instant.now();
    return leaf(now.minus(VALIDITY), now.plus(VALIDITY), names);
  }

  /** A certificate for the given names that expired yesterday. */
  public Leaf expiredLeaf(String... names) {
    Instant now = Instant.now();
    return leaf(now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1)), names);
  }

  /** A valid certificate for a host that is not localhost: serving it on localhost must fail host-name checks. */
  public Leaf wrongHostLeaf() {
    return leaf("wrong-host.example");
  }

  public Leaf leaf(Instant notBefore, Instant notAfter, String... names) {
    if (names.length == 0) {
      throw new IllegalArgumentException("a certificate needs at least one name");
    }
    try {
      KeyPair keys = keyPair();
      GeneralName[] alternatives = new GeneralName[names.length];
      for (int i = 0; i < names.length; i++) {
        alternatives[i] = isIpLiteral(names[i])
            ? new GeneralName(GeneralName.iPAddress, InetAddress.getByName(names[i]).getHostAddress())
            : new GeneralName(GeneralName.dNSName, names[i]);
      }
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              caName, serial(), Date.from(notBefore), Date.from(notAfter), new X500Name("CN=" + names[0]), keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(Extension.extendedKeyUsage, false, // a server's, or a client's (Kafka with mutual TLS)
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(alternatives));
      X509Certificate certificate = sign(builder);
      String stem = "leaf-" + certificate.getSerialNumber();
      return new Leaf(
          certificate,
          write(stem + ".pem", pem("CERTIFICATE", certificate.getEncoded())),
          write(stem + ".key", pem("PRIVATE KEY", keys.getPrivate().getEncoded())));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a test certificate for " + String.join(",", names), e);
    }
  }

  /**
   * {@code leaf}'s key and certificate, with this CA's certificate after it, in a PKCS#12 file under {@code password}:
   * a keystore as Strimzi gives a Kafka user.
   */
  public Path pkcs12(Leaf leaf, String password) {
    try {
      String base64 = Files.readString(leaf.keyPem(), StandardCharsets.US_ASCII).replaceAll("-----[A-Z ]+-----|\\s", "");
      PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("client", key, password.toCharArray(), new Certificate[] {leaf.certificate(), ca});
      Path file = dir.resolve("leaf-" + leaf.certificate().getSerialNumber() + ".p12");
      try (OutputStream out = Files.newOutputStream(file)) {
        store.store(out, password.toCharArray());
      }
      file.toFile().deleteOnExit();
      return file;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot write a PKCS#12 keystore", e);
    }
  }

  private static boolean isIpLiteral(String name) {
    return name.contains(":") || name.chars().allMatch(c -> Character.isDigit(c) || c == '.');
  }

  private X509Certificate sign(X509v3CertificateBuilder builder) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate())));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair keyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    return generator.generateKeyPair();
  }

  private static BigInteger serial() {
    return BigInteger.valueOf(SERIALS.incrementAndGet());
  }

  private static String pem(String type, byte[] der) {
    String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n";
  }

  private Path write(String name, String content) {
    try {
      Path file = dir.resolve(name);
      Files.writeString(file, content, StandardCharsets.US_ASCII);
      file.toFile().deleteOnExit();
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The PEM bytes of a file, for options that take values rather than paths. */
  public static Buffer read(Path pem) {
    try {
      return Buffer.buffer(Files.readAllBytes(pem));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
