package dev.vxsocks.launcher;

import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.TestProxy;
import dev.vxsocks.testing.Transports;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.Authenticator;
import java.net.InetSocketAddress;
import java.net.PasswordAuthentication;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.SharedTargets.answerAfterEof;
import static dev.vxsocks.testing.SharedTargets.echo;
import static dev.vxsocks.testing.TestProxy.PASSWORD;
import static dev.vxsocks.testing.TestProxy.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The JDK's own SOCKS client ({@code new Socket(new Proxy(Proxy.Type.SOCKS, ...))}, SOCKS5 by default). For
 * username/password it asks the default {@link Authenticator} with requesting protocol "SOCKS5"; with no
 * Authenticator it sends the {@code user.name} property and an empty password.
 */
class JdkSocksClientTest extends TwoNodeClientTest {

  static final int TIMEOUT_MS = 20_000;
  @ParameterizedTest(name = "JDK client to {0}, credentials: {1}")
  @CsvSource({"127.0.0.1, false", "127.0.0.1, true", "::1, false", "::1, true",
      "unresolved localhost, false", "unresolved localhost, true"})
  void echoesThroughTheProxy(String host, boolean credentials) throws Exception {
    Node node = credentials ? withPassword : open;
    RecordingAuthenticator auth = new RecordingAuthenticator(PASSWORD);
    Authenticator.setDefault(auth);
    long before = node.server().stats().totalSessions();
    byte[] line = ("the JDK to " + host + "\n").getBytes(StandardCharsets.US_ASCII);

    try (Socket s = viaProxy(node)) {
      s.connect(target(host, echo().port()), TIMEOUT_MS);
      s.getOutputStream().write(line);
      byte[] back = s.getInputStream().readNBytes(line.length);
      assertThat(back).as("proxy log:\n" + log.text()).isEqualTo(line);
    }
    assertThat(node.server().stats().totalSessions()).isGreaterThan(before);
    if (credentials) {
      assertThat(auth.asked).containsExactly("SOCKS5 127.0.0.1:" + node.port() + " SERVER");
    } else {
      assertThat(auth.asked).as("a proxy that prefers 'none' must not make the JDK ask for a password").isEmpty();
    }
  }

  /** {@code shutdownOutput()} sends FIN through the proxy; the answer the target sends after it must arrive whole. */
  @ParameterizedTest(name = "JDK client half-close on {0}, credentials: {1}")
  @CsvSource({"nio, false", "nio, true", "native, false", "native, true"})
  void answerAfterTheClientsFinArrivesWhole(String transport, boolean credentials) throws Exception {
    Vertx vertx = own(Transports.vertx(transport));
    Node node = ProxyFixture.start(vertx, TestProxy.config(credentials ? "username-password" : "none"))
        .await(20, TimeUnit.SECONDS);
    Authenticator.setDefault(new RecordingAuthenticator(PASSWORD));
    byte[] request = new byte[300_000];
    new Random(3).nextBytes(request);

    try (Socket s = viaProxy(node)) {
      s.connect(InetSocketAddress.createUnresolved("localhost", answerAfterEof().port()), TIMEOUT_MS);
      s.getOutputStream().write(request);
      s.shutdownOutput();
      byte[] answer = s.getInputStream().readAllBytes();
      assertThat(answer).as("proxy log:\n" + log.text())
          .isEqualTo(LoopbackTargets.answerAfterEof(request.length, LoopbackTargets.sha256(request)));
    }
  }

  @Test
  void wrongPasswordFails() {
    Authenticator.setDefault(new RecordingAuthenticator("not-" + PASSWORD));
    assertThatThrownBy(() -> {
      try (Socket s = viaProxy(withPassword)) {
        s.connect(target("127.0.0.1", echo().port()), TIMEOUT_MS);
      }
    }).as("proxy log:\n" + log.text()).isInstanceOf(SocketException.class).hasMessageContaining("authentication failed");
  }

  /** No Authenticator: the JDK sends user.name and a zero-length password, which the proxy must refuse politely. */
  @Test
  void noAuthenticatorFails() {
    Authenticator.setDefault(null);
    assertThatThrownBy(() -> {
      try (Socket s = viaProxy(withPassword)) {
        s.connect(target("127.0.0.1", echo().port()), TIMEOUT_MS);
      }
    }).as("proxy log:\n" + log.text()).isInstanceOf(SocketException.class).hasMessageContaining("authentication failed");
  }

  @ParameterizedTest(name = "JDK client to a closed port on {0}")
  @CsvSource({"127.0.0.1", "::1", "unresolved localhost"})
  void refusedPortIsReplyFive(String host) throws Exception {
    int closed = LoopbackTargets.closedPort();
    assertThatThrownBy(() -> {
      try (Socket s = viaProxy(open)) {
        s.connect(target(host, closed), TIMEOUT_MS);
      }
    }).as("proxy log:\n" + log.text()).isInstanceOf(SocketException.class)
        // The JDK's text for reply 5 (SocksSocketImpl: CONN_REFUSED).
        .hasMessageContaining("Connection refused");
  }


  static Socket viaProxy(Node node) throws SocketException {
    Socket s = new Socket(new Proxy(Proxy.Type.SOCKS, new InetSocketAddress(LoopbackTargets.IPV4, node.port())));
    s.setSoTimeout(TIMEOUT_MS);
    return s;
  }

  static InetSocketAddress target(String host, int port) {
    switch (host) {
      case "127.0.0.1": return new InetSocketAddress(LoopbackTargets.IPV4, port);
      case "::1": return new InetSocketAddress(LoopbackTargets.IPV6, port);
      case "unresolved localhost": return InetSocketAddress.createUnresolved("localhost", port);
      default: throw new IllegalArgumentException(host);
    }
  }

  /** Answers only SOCKS5 requests, and records each question as "PROTOCOL host:port REQUESTOR_TYPE". */
  static final class RecordingAuthenticator extends Authenticator {
    final List<String> asked = new CopyOnWriteArrayList<>();
    private final String password;

    RecordingAuthenticator(String password) {
      this.password = password;
    }

    @Override
    protected PasswordAuthentication getPasswordAuthentication() {
      asked.add(getRequestingProtocol() + " " + getRequestingHost() + ":" + getRequestingPort() + " " + getRequestorType());
      return "SOCKS5".equals(getRequestingProtocol()) ? new PasswordAuthentication(USER, password.toCharArray()) : null;
    }
  }
}
