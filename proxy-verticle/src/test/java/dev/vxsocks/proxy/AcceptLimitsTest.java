package dev.vxsocks.proxy;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The node's guard at accept on a running node: {@code limits.sessions-total} closes the connection past it before a
 * byte is read (sessions already open carry on), and behind a trusted balancer a source's share applies to the client
 * its PROXY header names, not to the balancer.
 */
class AcceptLimitsTest {

  private static final int TOTAL = 20;
  private static final int OVER = 30;
  private static final byte[] PING = "ping".getBytes(StandardCharsets.US_ASCII);

  @Test
  void theConnectionPastSessionsTotalIsClosedAtAccept() throws Exception {
    JsonObject json = TestProxy.config("none");
    // All from 127.0.0.1: no source share (auto would be a quarter of the total).
    json.put("limits", new JsonObject().put("sessions-total", TOTAL).put("sessions-per-source", 0));
    List<RawClient> held = new ArrayList<>();
    try (TestProxy proxy = TestProxy.start(json); TcpTarget echo = TcpTarget.echo("127.0.0.1");
         LogCapture log = new LogCapture(AcceptGate.class.getName(), java.util.logging.Level.INFO)) {
      try {
        for (int i = 0; i < TOTAL; i++) {
          held.add(session(proxy.port(), echo.port()));
        }
        for (int i = 0; i < OVER; i++) {
          try (RawClient refused = new RawClient(proxy.port())) {
            refused.expectClosed();
          }
        }
        assertThat(proxy.server.stats().refusedOverTotal()).isEqualTo(OVER);
        assertThat(proxy.server.stats().openSessions()).isEqualTo(TOTAL);
        // The first refusal is said at once; the other 29 wait for the next line, 10 s on.
        assertThat(log.lines()).containsExactly("accept: refused 1 connection in 0.0s: limits.sessions-total (20) 1;"
            + " most from 127.0.0.1 (1)");
        for (RawClient c : held) {
          c.send(PING);
          assertThat(c.read(PING.length)).as("open sessions carry on").isEqualTo(PING);
        }
        held.remove(0).close();
        waitFor(() -> proxy.server.stats().openSessions() == TOTAL - 1);
        held.add(session(proxy.port(), echo.port()));
      } finally {
        for (RawClient c : held) {
          c.close();
        }
      }
    }
  }

  @Test
  void behindABalancerTheShareIsTheClientsOnceItsHeaderIsRead() throws Exception {
    JsonObject json = TestProxy.config("none");
    json.getJsonObject("listen").put("proxy-protocol-from", new JsonArray().add("127.0.0.9/32"))
        .put("proxy-protocol-timeout", "20s");
    json.put("limits", new JsonObject().put("pending-handshakes-per-source", 2).put("source-prefix-ipv4", 24));
    List<Socket> sockets = new ArrayList<>();
    try (TestProxy proxy = TestProxy.start(json); LogCapture log = new LogCapture()) {
      try {
        // The balancer carries everyone: five connections, past any share, none refused.
        List<Socket> balancer = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          balancer.add(from("127.0.0.9", proxy.port(), sockets));
        }
        waitFor(() -> proxy.server.stats().openSessions() == 5);
        assertThat(proxy.server.stats().refusedOverShare()).isZero();

        // Three clients of 127.0.5.0/24, then one of 127.0.6.0/24, named by headers (one after the other) and silent.
        for (int i = 0; i < 4; i++) {
          String client = (i < 3 ? "127.0.5." + (i + 1) : "127.0.6.1") + ":4000" + i;
          balancer.get(i).getOutputStream().write(("PROXY TCP4 " + client.replace(":", " 127.0.0.1 ") + " "
              + proxy.port() + "\r\n").getBytes(StandardCharsets.US_ASCII));
          log.await("header: client " + client, 10_000);
        }
        assertThat(log.await("close=\"refused: ", 10_000)).contains("client=127.0.5.3:40002",
            "via=127.0.0.9:", "close=\"refused: limits.pending-handshakes-per-source (2) reached for 127.0.5.0/24\"");
        new RawClient(balancer.get(2)).expectClosed();
        for (int i : new int[] {0, 1, 3}) {
          RawClient open = new RawClient(balancer.get(i));
          assertThat(open.greet(0)).as("the client named by header %d is served", i).isZero();
        }
        // A direct client of the same /24 finds its share taken by the two behind the balancer.
        new RawClient(from("127.0.5.200", proxy.port(), sockets)).expectClosed();
        assertThat(proxy.server.stats().refusedOverShare()).isEqualTo(2);
      } finally {
        for (Socket s : sockets) {
          s.close();
        }
      }
    }
  }

  /** A CONNECT session to the echo target, checked with one round trip, left open. */
  private static RawClient session(int proxyPort, int echoPort) throws IOException {
    RawClient c = new RawClient(proxyPort);
    assertThat(c.greet(0)).isZero();
    assertThat(c.request(RawClient.CONNECT, echoPort).code()).isZero();
    c.send(PING);
    assertThat(c.read(PING.length)).isEqualTo(PING);
    return c;
  }

  private static Socket from(String source, int port, List<Socket> opened) throws IOException {
    Socket s = new Socket();
    opened.add(s);
    s.setSoTimeout(10_000);
    s.bind(new InetSocketAddress(source, 0));
    s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    return s;
  }

  private static void waitFor(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 10_000;
    while (!condition.getAsBoolean()) {
      assertThat(System.currentTimeMillis()).as("waited 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
  }
}
