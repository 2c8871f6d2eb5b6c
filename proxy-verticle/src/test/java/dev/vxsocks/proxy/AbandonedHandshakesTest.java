package dev.vxsocks.proxy;

import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 1000 clients abandon their handshakes (half of them vanish, half go silent until the deadline): the node must end
 * up holding no session, no pending-handshake count and no file descriptor for any of them, and still serve.
 */
class AbandonedHandshakesTest {

  private static final int CLIENTS = 1000;

  @Test
  void abandonedHandshakesLeaveNothingBehind() throws Exception {
    JsonObject json = TestProxy.baseConfig();
    json.put("timeouts", new JsonObject().put("handshake", "1s"));
    // All 1000 come from 127.0.0.1: no per-source share here (HandshakeFloodTest is about shares).
    json.put("limits", new JsonObject().put("pending-handshakes-per-source", 0));
    try (TestProxy proxy = TestProxy.start(json); TcpTarget echo = TcpTarget.echo("127.0.0.1")) {
      long fdsBefore = openDescriptors();
      List<Socket> clients = new ArrayList<>();
      try {
        for (int i = 0; i < CLIENTS; i++) {
          Socket s = new Socket();
          s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5000);
          // Stop at a different point of the handshake each time.
          byte[] partial = i % 3 == 0 ? new byte[] {5} : i % 3 == 1 ? new byte[] {5, 2, 0} : new byte[] {5, 1, 0, 5, 1, 0, 1, 127};
          s.getOutputStream().write(partial);
          clients.add(s);
        }
        // Half of them vanish at once (RST or FIN); the rest wait for the server's deadline.
        for (int i = 0; i < CLIENTS; i += 2) {
          if (i % 4 == 0) {
            clients.get(i).setSoLinger(true, 0);
          }
          clients.get(i).close();
        }
        waitFor(() -> proxy.server.stats().openSessions() == 0, 20_000, "every abandoned session to end");
        assertThat(proxy.server.stats().pendingHandshakes()).isZero();
        assertThat(proxy.server.stats().totalSessions()).isGreaterThanOrEqualTo(CLIENTS);
      } finally {
        for (Socket s : clients) {
          s.close();
        }
      }
      waitFor(() -> openDescriptors() <= fdsBefore + 10, 10_000, "descriptors to return to " + fdsBefore);
      Socks5SessionTest.echo = echo;
      Socks5SessionTest.assertEchoSession(proxy.port());
    }
  }

  private static long openDescriptors() {
    String[] fds = new File("/proc/self/fd").list();
    return fds == null ? 0 : fds.length;
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, long millis, String what) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(50);
    }
  }
}
