package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;
import javax.net.ssl.X509KeyManager;
import org.junit.jupiter.api.Test;

class LoopbackCertificateTest {
  private final LoopbackCertificate made = LoopbackCertificate.create();

  @Test
  void isACurrentCertificateForLocalhostWhoseKeyIsTheOneGiven() throws Exception {
    X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(made.certificatePem().getBytes(StandardCharsets.US_ASCII)));
    certificate.checkValidity(new Date());
    assertThat(certificate.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
    assertThat(certificate.getSubjectAlternativeNames()).containsExactly(List.of(2, "localhost"));
    certificate.verify(certificate.getPublicKey()); // self-signed

    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(made.privateKey());
    signer.update(new byte[] {1, 2, 3});
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(certificate.getPublicKey());
    verifier.update(new byte[] {1, 2, 3});
    assertThat(verifier.verify(signature)).isTrue();
  }

  @Test
  void servesTheCertificateAndItsKeyToAServer() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      X509KeyManager keys = (X509KeyManager) made.keyCertOptions().getKeyManagerFactory(vertx).getKeyManagers()[0];
      String alias = keys.chooseServerAlias("EC", null, null);
      assertThat(keys.getCertificateChain(alias)).containsExactly(made.certificate());
      assertThat(keys.getPrivateKey(alias)).isEqualTo(made.privateKey());
    } finally {
      vertx.close();
    }
  }
}
