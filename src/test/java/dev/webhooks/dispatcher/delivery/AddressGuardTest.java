package dev.webhooks.dispatcher.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class AddressGuardTest {
  /** Answers from a fixed table; hosts not in it do not resolve. No Vert.x, no DNS. */
  private static final HostResolver FAKE_DNS =
      host -> {
        Map<String, String> table =
            Map.of(
                "localhost", "127.0.0.1",
                "public.example", "93.184.216.34",
                "rebind.example", "10.1.2.3");
        String ip = table.get(host);
        if (ip == null) {
          return Future.failedFuture(new UnknownHostException(host));
        }
        return Future.succeededFuture(List.of(address(ip)));
      };

  private final AddressGuard guard = new AddressGuard(false, FAKE_DNS);
  private final AddressGuard lifted = new AddressGuard(true, FAKE_DNS);

  @ParameterizedTest(name = "{0} is blocked as {1}")
  @CsvSource({
    "127.0.0.1, loopback",
    "127.8.9.10, loopback",
    "10.0.0.1, private",
    "172.16.0.1, private",
    "172.31.255.255, private",
    "192.168.1.1, private",
    "100.64.0.1, carrier-grade NAT",
    "100.127.255.254, carrier-grade NAT",
    "169.254.169.254, link-local (cloud metadata)",
    "0.0.0.0, unspecified (0.0.0.0/8)",
    "224.0.0.1, multicast",
    "255.255.255.255, reserved or broadcast",
    "192.0.2.7, reserved (IETF or documentation)",
    "198.18.0.1, reserved (benchmarking)",
    "::1, loopback",
    "::, unspecified",
    "::ffff:127.0.0.1, loopback",
    "::ffff:169.254.169.254, link-local (cloud metadata)",
    "::127.0.0.1, loopback",
    "64:ff9b::a00:1, private",
    "2002:7f00:1::, loopback",
    "fd00::1, unique local (private)",
    "fc00::1, unique local (private)",
    "fe80::1, link-local",
    "fec0::1, site-local",
    "ff02::1, multicast",
    "2001:db8::1, reserved (documentation)",
    "3fff::1, reserved (documentation)",
    "3fff:fff:ffff::1, reserved (documentation)",
    "2001:2::1, reserved (benchmarking)",
    "2001:2:0:ffff::1, reserved (benchmarking)",
  })
  void blocksNonPublicAddresses(String ip, String range) {
    assertThat(AddressGuard.blockedRange(address(ip))).contains(range);
    assertThat(guard.permits(address(ip))).isFalse();
    assertThat(lifted.permits(address(ip))).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8",
      "2001:2:1::1", "3fff:1000::1"})
  void allowsPublicAddresses(String ip) {
    assertThat(AddressGuard.blockedRange(address(ip))).isEmpty();
    assertThat(guard.permits(address(ip))).isTrue();
  }

  @Test
  void refusesLocalhostAtInstallNamingTheSwitchThatAllowsIt() {
    assertThat(refusal(guard, "https://localhost:8443/hook"))
        .contains("host localhost resolves to 127.0.0.1, a loopback address; set DELIVERY_ALLOW_PRIVATE_NETWORKS=true"
            + " to allow private and loopback endpoints (local trials only)");
  }

  @ParameterizedTest(name = "{0} names the switch")
  @CsvSource({
    "10.1.2.3, private",
    "192.168.1.1, private",
    "fd00::1, unique local (private)",
    "::1, loopback",
  })
  void refusalsOfLocalTrialAddressesNameTheSwitch(String ip, String range) {
    assertThat(guard.refusal("h.example", List.of(address(ip))))
        .contains("host h.example resolves to " + address(ip).getHostAddress() + ", a " + range + " address; set"
            + " DELIVERY_ALLOW_PRIVATE_NETWORKS=true to allow private and loopback endpoints (local trials only)");
  }

  @ParameterizedTest(name = "{0} does not suggest lifting the guard")
  @CsvSource({
    "169.254.169.254, link-local (cloud metadata)",
    "100.64.0.1, carrier-grade NAT",
    "224.0.0.1, multicast",
    "192.0.2.7, reserved (IETF or documentation)",
    "fe80::1, link-local",
  })
  void refusalsOfOtherRangesDoNotSuggestLiftingTheGuard(String ip, String range) {
    assertThat(guard.refusal("h.example", List.of(address(ip))))
        .contains("host h.example resolves to " + address(ip).getHostAddress() + ", a " + range + " address");
  }

  @Test
  void refusesIpLiteralsWithoutALookup() {
    HostResolver noDns = host -> Future.failedFuture(new AssertionError("looked up " + host));
    AddressGuard literalOnly = new AddressGuard(false, HostResolver.literalsFirst(noDns));
    assertThat(refusal(literalOnly, "https://169.254.169.254/latest/meta-data")).isPresent();
    assertThat(refusal(literalOnly, "https://[::1]:8443/")).isPresent();
  }

  @Test
  void acceptsAPublicHostAndAnUnresolvableOne() {
    assertThat(refusal(guard, "https://public.example/hook?x=1")).isEmpty();
    assertThat(refusal(guard, "https://not-yet-in-dns.example/hook")).isEmpty();
  }

  @Test
  void allowPrivateNetworksLiftsTheInstallCheck() {
    assertThat(refusal(lifted, "https://localhost:8443/hook")).isEmpty();
    assertThat(refusal(lifted, "https://rebind.example/hook")).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://public.example/hook", "/relative/path", "https:///nohost", "https://user:pw@public.example/", "not a url"})
  void refusesEndpointsThatAreNotAbsoluteHttpsWithAHost(String endpoint) {
    assertThat(refusal(guard, endpoint)).isPresent();
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://public.example:0/hook", "https://public.example:65536/hook",
      "https://public.example:70000/hook"})
  void refusesAPortOutsideTheTcpRange(String endpoint) {
    assertThat(refusal(guard, endpoint)).hasValueSatisfying(m -> assertThat(m).contains("port"));
  }

  private static Optional<String> refusal(AddressGuard guard, String endpoint) {
    Future<Optional<String>> result = guard.refusal(endpoint);
    assertThat(result.isComplete()).as("the fake resolver answers synchronously").isTrue();
    return result.result();
  }

  private static InetAddress address(String ip) {
    try {
      return InetAddress.getByName(ip); // IP literals only: no DNS
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
