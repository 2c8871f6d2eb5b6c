package dev.vxsocks.launcher;

import dev.vxsocks.testing.LoopbackTargets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.vxsocks.testing.SharedTargets.answerAfterEof;
import static dev.vxsocks.testing.SharedTargets.echo;
import static dev.vxsocks.testing.TestProxy.PASSWORD;
import static dev.vxsocks.testing.TestProxy.USER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PySocks (Debian's python3-socks, run by Debian's /usr/bin/python3) through the proxy, driven by
 * {@code src/test/resources/pysocks_client.py}. With {@code rdns} PySocks sends the name (ATYP 3); without it, it
 * resolves the name itself and sends the address.
 */
class PySocksClientTest extends TwoNodeClientTest {

  @ParameterizedTest(name = "PySocks to {0}, rdns {1}, credentials: {2}")
  @CsvSource({
      "127.0.0.1, false, false", "127.0.0.1, false, true",
      "::1, false, false", "::1, false, true",
      "localhost, true, false", "localhost, true, true",
      "localhost, false, false", "localhost, false, true"})
  void echoesThroughTheProxy(String host, boolean rdns, boolean credentials) {
    Node node = credentials ? withPassword : open;
    long before = node.server().stats().totalSessions();
    byte[] payload = ("PySocks to " + host + "\n").getBytes(StandardCharsets.US_ASCII);

    Clients.Result r = Clients.run(pysocks(node, host, echo().port(), "echo", rdns, credentials ? PASSWORD : null), payload);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.stdout()).as(r.describe()).isEqualTo(payload);
    assertThat(node.server().stats().totalSessions()).as("PySocks went through the proxy").isGreaterThan(before);
  }

  @ParameterizedTest(name = "PySocks half-close to {0}, credentials: {1}")
  @CsvSource({"127.0.0.1, false", "::1, true", "localhost, true"})
  void answerAfterTheClientsFinArrivesWhole(String host, boolean credentials) {
    Node node = credentials ? withPassword : open;
    byte[] payload = new byte[200_000];
    new Random(7).nextBytes(payload);

    Clients.Result r = Clients.run(
        pysocks(node, host, answerAfterEof().port(), "halfclose", host.equals("localhost"), credentials ? PASSWORD : null), payload);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.stdout()).as(r.describe() + "\nproxy log:\n" + log.text())
        .isEqualTo(LoopbackTargets.answerAfterEof(payload.length, LoopbackTargets.sha256(payload)));
  }

  @Test
  void wrongPasswordFails() {
    Clients.Result r = Clients.run(pysocks(withPassword, "127.0.0.1", echo().port(), "echo", false, "wrong"),
        "never relayed\n".getBytes(StandardCharsets.US_ASCII));

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(3);
    assertThat(r.stderr()).as(r.describe()).contains("SOCKS5 authentication failed");
  }

  @Test
  void refusedPortIsReplyFive() throws Exception {
    Clients.Result r = Clients.run(pysocks(open, "localhost", LoopbackTargets.closedPort(), "echo", true, null),
        "never relayed\n".getBytes(StandardCharsets.US_ASCII));

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(3);
    assertThat(r.stderr()).as(r.describe()).contains("0x05: Connection refused");
  }

  static List<String> pysocks(Node node, String host, int port, String mode, boolean rdns, String password) {
    List<String> cmd = new ArrayList<>(List.of(Clients.pysocksPython(), Clients.resource("pysocks_client.py"),
        "--proxy-port", String.valueOf(node.port()), "--host", host, "--port", String.valueOf(port), "--mode", mode));
    if (rdns) {
      cmd.add("--rdns");
    }
    if (password != null) {
      cmd.addAll(List.of("--user", USER, "--password", password));
    }
    return cmd;
  }

}
