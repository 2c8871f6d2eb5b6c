package dev.vxsocks.launcher;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.SharedTargets;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.net.Authenticator;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.SharedTargets.echo;
import static dev.vxsocks.testing.SharedTargets.holdAfterEof;
import static dev.vxsocks.testing.SharedTargets.http;
import static dev.vxsocks.testing.TestProxy.PASSWORD;
import static dev.vxsocks.testing.TestProxy.USER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Timeouts and session limits as real clients meet them. No assertion is about time: each case waits, bounded, for
 * the proxy to end a connection or free a slot, and checks what the client saw.
 */
@ExtendWith({VertxExtension.class, SharedTargets.class})
class TimeoutsAndLimitsTest {

  private LogCapture log;

  @BeforeEach
  void capture() {
    log = new LogCapture();
  }

  @AfterEach
  void stop() {
    Authenticator.setDefault(null);
    log.close();
  }

  private static Node start(Vertx vertx, JsonObject config) throws Exception {
    return ProxyFixture.start(vertx, config).await(20, TimeUnit.SECONDS);
  }

  /** ncat sends its FIN; the target never answers nor closes; timeouts.half-close must end the session. */
  @Test
  void halfCloseTimeoutEndsAStuckSession(Vertx vertx) throws Exception {
    JsonObject cfg = TestProxy.config("none");
    cfg.put("timeouts", new JsonObject().put("half-close", "500ms"));
    Node node = start(vertx, cfg);
    List<String> cmd = NcatClientTest.ncat(node, null);
    cmd.addAll(List.of("127.0.0.1", String.valueOf(holdAfterEof().port())));

    Clients.Result r = Clients.run(cmd, "then nothing\n".getBytes(StandardCharsets.US_ASCII));

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.stdout()).isEmpty();
    assertThat(log.awaitLine("close=\"half-close timeout\"")).as("proxy log:\n" + log.text()).isTrue();
  }

  /** A relayed connection on which nothing moves is closed after timeouts.idle; the JDK client reads EOF. */
  @Test
  void idleTimeoutClosesASilentSession(Vertx vertx) throws Exception {
    JsonObject cfg = TestProxy.config("none");
    cfg.put("timeouts", new JsonObject().put("idle", "1s"));
    Node node = start(vertx, cfg);

    try (Socket s = JdkSocksClientTest.viaProxy(node)) {
      s.connect(new InetSocketAddress(LoopbackTargets.IPV4, echo().port()), JdkSocksClientTest.TIMEOUT_MS);
      assertThat(s.getInputStream().read()).as("EOF, not a read timeout\nproxy log:\n" + log.text()).isEqualTo(-1);
    }
    assertThat(log.awaitLine("close=\"idle timeout\"")).as("proxy log:\n" + log.text()).isTrue();
  }

  /** A client that connects and says nothing (or half a greeting) is closed after timeouts.handshake. */
  @Test
  void handshakeTimeoutClosesASilentClient(Vertx vertx) throws Exception {
    JsonObject cfg = TestProxy.config("none");
    cfg.put("timeouts", new JsonObject().put("handshake", "300ms"));
    Node node = start(vertx, cfg);

    for (byte[] sent : List.of(new byte[0], new byte[] {5, 2, 0})) {
      try (Socket s = new Socket()) {
        s.setSoTimeout(JdkSocksClientTest.TIMEOUT_MS);
        s.connect(new InetSocketAddress(LoopbackTargets.IPV4, node.port()), JdkSocksClientTest.TIMEOUT_MS);
        s.getOutputStream().write(sent);
        InputStream in = s.getInputStream();
        assertThat(in.readAllBytes()).as("nothing, then EOF\nproxy log:\n" + log.text()).isEmpty();
      }
    }
    assertThat(node.server().stats().pendingHandshakes()).isZero();
  }

  /**
   * limits.sessions-per-user: 1. While the JDK client holds alice's only slot, curl as alice gets reply 2; once the
   * JDK client has gone, the slot comes back (waited for, bounded) and curl gets through.
   */
  @Test
  void sessionsPerUserLimitRefusesTheSecondAndFreesTheSlot(Vertx vertx) throws Exception {
    JsonObject cfg = TestProxy.config("username-password");
    cfg.put("limits", new JsonObject().put("sessions-per-user", 1));
    Node node = start(vertx, cfg);
    Authenticator.setDefault(new JdkSocksClientTest.RecordingAuthenticator(PASSWORD));
    List<String> curl = CurlClientTest.curl("--socks5-hostname", "127.0.0.1:" + node.port());
    curl.addAll(List.of("--proxy-user", USER + ":" + PASSWORD, "http://localhost:" + http().port() + "/hello"));

    try (Socket holder = JdkSocksClientTest.viaProxy(node)) {
      holder.connect(new InetSocketAddress(LoopbackTargets.IPV4, echo().port()), JdkSocksClientTest.TIMEOUT_MS);
      holder.getOutputStream().write('x');
      assertThat(holder.getInputStream().read()).isEqualTo('x'); // the session is relaying: its slot is taken

      Clients.Result refused = Clients.run(curl, new byte[0]);
      assertThat(refused.exit()).as(refused.describe() + "\nproxy log:\n" + log.text()).isEqualTo(97);
      assertThat(refused.stderr()).as(refused.describe()).contains("(2)");
    }

    Clients.Result r = null;
    for (int attempt = 0; attempt < 40; attempt++) {
      r = Clients.run(curl, new byte[0]);
      if (r.exit() == 0) {
        break;
      }
      Thread.sleep(250);
    }
    assertThat(r.exit()).as("the slot was never given back\n" + r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.out()).isEqualTo("hello via 127.0.0.1\n");
  }

  /** Failed connects must give their slot back too: with a limit of 1, refused connects must not use it up. */
  @Test
  void refusedConnectsDoNotKeepTheSlot(Vertx vertx) throws Exception {
    JsonObject cfg = TestProxy.config("username-password");
    cfg.put("limits", new JsonObject().put("sessions-per-user", 1));
    Node node = start(vertx, cfg);
    int closed = LoopbackTargets.closedPort();

    List<String> cmd = CurlClientTest.curl("--socks5", "127.0.0.1:" + node.port());
    cmd.addAll(List.of("--proxy-user", USER + ":" + PASSWORD, "http://127.0.0.1:" + closed + "/"));
    for (int i = 0; i < 3; i++) {
      // The previous session gives its slot back just after its reply is sent: a reply 2 right after it may be
      // that moment, so it is retried (bounded); a slot that never comes back keeps answering 2 and fails.
      Clients.Result r = Clients.run(cmd, new byte[0]);
      for (int retry = 0; retry < 20 && r.stderr().contains("(2)"); retry++) {
        Thread.sleep(250);
        r = Clients.run(cmd, new byte[0]);
      }
      assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(97);
      assertThat(r.stderr()).as("reply 5 each time, not 2 (limit)\n" + r.describe() + "\nproxy log:\n" + log.text())
          .contains("(5)");
    }
  }
}
