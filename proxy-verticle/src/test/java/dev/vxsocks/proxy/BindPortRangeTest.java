package dev.vxsocks.proxy;

import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.Bytes.bytes;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * BIND ports from a configured range are handed out, never shared. Vert.x would join a second listen on a port it
 * already serves and deal the peers out between both sessions: a session could receive another's peer.
 */
class BindPortRangeTest {

  private static TestProxy start(String ports) throws Exception {
    JsonObject json = TestProxy.baseConfig();
    json.put("bind", new JsonObject().put("accept-timeout", "20s").put("ports", ports));
    // 200 handshakes at once on a loaded two-core machine: the base configuration's 2 s deadline is too close.
    json.put("timeouts", new JsonObject().put("handshake", "15s"));
    return TestProxy.start(json);
  }

  /** BIND for any peer; the first reply's code and port. */
  private static int[] bind(RawClient c) throws IOException {
    c.send(bytes(5, 1, 0)).expect(bytes(5, 0));
    c.send(bytes(5, 2, 0, 1, 0, 0, 0, 0, 0, 0));
    byte[] first = c.readReply();
    return new int[] {first[1], ((first[8] & 0xff) << 8) | (first[9] & 0xff)};
  }

  private static Socket peer(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(10_000);
    return s;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void aSecondBindOnAOnePortRangeGetsAGeneralFailure() throws Exception {
    int port = freePort();
    try (TestProxy proxy = start(String.valueOf(port));
         RawClient a = new RawClient(proxy.port());
         RawClient b = new RawClient(proxy.port())) {
      assertThat(bind(a)).containsExactly(0, port);
      assertThat(bind(b)[0]).as("reply to the second BIND").isEqualTo(0x01);
      b.expectClosed();
      try (Socket p = peer(port)) {
        byte[] second = a.readReply();
        assertThat(second[1]).isZero();
        assertThat(((second[8] & 0xff) << 8) | (second[9] & 0xff)).isEqualTo(p.getLocalPort());
        p.getOutputStream().write('x');
        a.expect(bytes('x'));
      }
    }
  }

  /**
   * 200 BINDs race for 50 ports: no port is given twice, every peer reaches the session whose port it dialled (the
   * second reply names that very peer), the others get 0x01, and once all have ended the 50 ports serve again.
   */
  @Test
  void twoHundredBindsRacingOverFiftyPortsNeverShareOne() throws Exception {
    int low = 20000 + (int) (ProcessHandle.current().pid() % 20000);
    String range = low + "-" + (low + 49);
    ExecutorService pool = Executors.newFixedThreadPool(32);
    try (TestProxy proxy = start(range)) {
      for (int round = 0; round < 2; round++) {
        List<Future<Object[]>> attempts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          attempts.add(pool.submit(() -> {
            RawClient c = new RawClient(proxy.port());
            return new Object[] {c, bind(c)};
          }));
        }
        List<RawClient> clients = new ArrayList<>();
        Set<Integer> ports = new HashSet<>();
        List<Object[]> granted = new ArrayList<>();
        int refused = 0;
        for (Future<Object[]> f : attempts) {
          Object[] r = f.get(60, TimeUnit.SECONDS);
          clients.add((RawClient) r[0]);
          int[] reply = (int[]) r[1];
          if (reply[0] == 0) {
            assertThat(ports.add(reply[1])).as("port %d handed out twice", reply[1]).isTrue();
            assertThat(reply[1]).isBetween(low, low + 49);
            granted.add(r);
          } else {
            assertThat(reply[0]).isEqualTo(0x01);
            refused++;
          }
        }
        // Another program may hold a port of the range; all the others must have been handed out.
        assertThat(granted.size()).as("round %d", round).isBetween(45, 50);
        assertThat(refused).isEqualTo(200 - granted.size());
        for (Object[] g : granted) {
          RawClient c = (RawClient) g[0];
          try (Socket p = peer(((int[]) g[1])[1])) {
            byte[] second = c.readReply();
            assertThat(((second[8] & 0xff) << 8) | (second[9] & 0xff)).as("the peer this session waited for")
                .isEqualTo(p.getLocalPort());
          }
        }
        for (RawClient c : clients) {
          c.close();
        }
        // The next round finds the ports free again (the sessions' ends are asynchronous: wait for the count).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (proxy.server.stats().openSessions() > 0 && System.nanoTime() - deadline < 0) {
          Thread.sleep(50);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
