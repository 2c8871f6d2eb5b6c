package dev.vxsocks.launcher;

import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.TestProxy;
import dev.vxsocks.testing.Transports;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.SharedTargets.answerAfterEof;
import static dev.vxsocks.testing.SharedTargets.echo;
import static dev.vxsocks.testing.TestProxy.PASSWORD;
import static dev.vxsocks.testing.TestProxy.USER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nmap's ncat through the proxy. By default ncat half-closes: at EOF on its stdin it shuts down the write side of
 * the connection and keeps reading until the server closes (its {@code --no-shutdown} turns that off). So every
 * case here relays a client FIN, and the target answers only after it.
 */
class NcatClientTest extends TwoNodeClientTest {

  @ParameterizedTest(name = "ncat to {0}, credentials: {1}")
  @CsvSource({"127.0.0.1, false", "127.0.0.1, true", "::1, false", "::1, true", "localhost, false", "localhost, true"})
  void aLineComesBack(String host, boolean credentials) {
    Node node = credentials ? withPassword : open;
    long before = node.server().stats().totalSessions();
    List<String> cmd = ncat(node, credentials ? USER + ":" + PASSWORD : null);
    cmd.addAll(List.of(host, String.valueOf(echo().port())));
    byte[] line = ("a line through ncat to " + host + "\n").getBytes(StandardCharsets.US_ASCII);

    Clients.Result r = Clients.run(cmd, line);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.stdout()).as(r.describe()).isEqualTo(line);
    assertThat(node.server().stats().totalSessions()).as("ncat went through the proxy").isGreaterThan(before);
  }

  @Test
  void theProxyResolvesTheName() {
    List<String> cmd = ncat(withPassword, USER + ":" + PASSWORD);
    cmd.addAll(List.of("--proxy-dns", "remote", "localhost", String.valueOf(echo().port())));
    byte[] line = "resolved by the proxy\n".getBytes(StandardCharsets.US_ASCII);

    Clients.Result r = Clients.run(cmd, line);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.stdout()).as(r.describe()).isEqualTo(line);
  }

  @Test
  void wrongPasswordFails() {
    List<String> cmd = ncat(withPassword, USER + ":wrong");
    cmd.addAll(List.of("127.0.0.1", String.valueOf(echo().port())));

    Clients.Result r = Clients.run(cmd, "never relayed\n".getBytes(StandardCharsets.US_ASCII));

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isNotZero();
    assertThat(r.stderr()).as(r.describe()).contains("authentication failed");
    assertThat(r.stdout()).as(r.describe()).isEmpty();
  }

  @Test
  void refusedPortFails() throws Exception {
    List<String> cmd = ncat(open, null);
    cmd.addAll(List.of("127.0.0.1", String.valueOf(LoopbackTargets.closedPort())));

    Clients.Result r = Clients.run(cmd, "never relayed\n".getBytes(StandardCharsets.US_ASCII));

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isNotZero();
    assertThat(r.stderr()).as(r.describe()).contains("Connection refused");
  }

  /**
   * The client sends 100 KB and its FIN; the target reads to EOF and only then answers (~70 KB) and closes. The
   * whole answer must arrive, on both transports.
   */
  @ParameterizedTest(name = "half-close through ncat on {0}, credentials: {1}")
  @CsvSource({"nio, false", "nio, true", "native, false", "native, true"})
  void answerAfterTheClientsFinArrivesWhole(String transport, boolean credentials) throws Exception {
    Vertx vertx = own(Transports.vertx(transport));
    Node node = ProxyFixture.start(vertx, TestProxy.config(credentials ? "username-password" : "none"))
        .await(20, TimeUnit.SECONDS);
    byte[] request = new byte[100_000];
    new Random(42).nextBytes(request);
    List<String> cmd = ncat(node, credentials ? USER + ":" + PASSWORD : null);
    cmd.addAll(List.of("127.0.0.1", String.valueOf(answerAfterEof().port())));

    Clients.Result r = Clients.run(cmd, request);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.stdout()).as(r.describe() + "\nproxy log:\n" + log.text())
        .isEqualTo(LoopbackTargets.answerAfterEof(request.length, LoopbackTargets.sha256(request)));
  }

  /** ncat's {@code --send-only}: sends stdin, then FIN, and ignores the answer; the target must get every byte. */
  @ParameterizedTest(name = "ncat --send-only, {0} bytes")
  @ValueSource(ints = {1, 65_536, 1_000_000})
  void sendOnlyDeliversEverything(int size) throws Exception {
    byte[] request = new byte[size];
    new Random(size).nextBytes(request);
    try (TcpTarget target = TcpTarget.start(TcpTarget.Mode.ANSWER_AFTER_EOF)) {
      List<String> cmd = ncat(open, null);
      cmd.addAll(List.of("--send-only", "127.0.0.1", String.valueOf(target.port())));

      Clients.Result r = Clients.run(cmd, request);

      assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
      assertThat(r.stdout()).as("--send-only prints nothing").isEmpty();
      assertThat(target.nextReceived()).as(r.describe() + "\nproxy log:\n" + log.text())
          .isEqualTo("received " + size + " bytes sha256 " + LoopbackTargets.hex(LoopbackTargets.sha256(request)));
    }
  }

  /**
   * ncat as a plain TCP client (no --proxy) sending bytes written here: greeting, username/password, request and
   * payload in one write, then FIN at once. The proxy must answer each step, relay the payload, pass the FIN on, and
   * relay the answer the target sends after it.
   */
  @ParameterizedTest(name = "pipelined handshake and FIN in one go, credentials: {0}")
  @ValueSource(booleans = {false, true})
  void pipelinedHandshakePayloadAndFin(boolean credentials) throws Exception {
    Node node = credentials ? withPassword : open;
    byte[] payload = "pipelined payload\n".getBytes(StandardCharsets.US_ASCII);
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    if (credentials) {
      b.write(new byte[] {5, 1, 2, 1, (byte) USER.length()});
      b.write(USER.getBytes(StandardCharsets.US_ASCII));
      b.write(PASSWORD.length());
      b.write(PASSWORD.getBytes(StandardCharsets.US_ASCII));
    } else {
      b.write(new byte[] {5, 1, 0});
    }
    int port = answerAfterEof().port();
    b.write(new byte[] {5, 1, 0, 1, 127, 0, 0, 1, (byte) (port >> 8), (byte) port});
    b.write(payload);
    List<String> cmd = List.of(Clients.ncat(), "127.0.0.1", String.valueOf(node.port()));

    Clients.Result r = Clients.run(cmd, b.toByteArray());

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    byte[] head = credentials ? new byte[] {5, 2, 1, 0, 5, 0, 0, 1, 127, 0, 0, 1} : new byte[] {5, 0, 5, 0, 0, 1, 127, 0, 0, 1};
    byte[] answer = LoopbackTargets.answerAfterEof(payload.length, LoopbackTargets.sha256(payload));
    assertThat(r.stdout().length).as(r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(head.length + 2 + answer.length);
    assertThat(java.util.Arrays.copyOfRange(r.stdout(), 0, head.length)).as(r.describe()).isEqualTo(head);
    assertThat(java.util.Arrays.copyOfRange(r.stdout(), head.length + 2, r.stdout().length)).as(r.describe()).isEqualTo(answer);
  }


  static List<String> ncat(Node node, String credentials) {
    List<String> cmd = new ArrayList<>(List.of(Clients.ncat(), "--proxy", "127.0.0.1:" + node.port(),
        "--proxy-type", "socks5", "--wait", "10"));
    if (credentials != null) {
      cmd.addAll(List.of("--proxy-auth", credentials));
    }
    return cmd;
  }
}
