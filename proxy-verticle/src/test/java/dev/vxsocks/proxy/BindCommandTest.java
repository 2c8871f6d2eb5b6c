package dev.vxsocks.proxy;

import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;

import static dev.vxsocks.testing.Bytes.bytes;
import static org.assertj.core.api.Assertions.assertThat;

/** BIND with a byte-level client and real peers on loopback. */
class BindCommandTest {

  static TestProxy proxy;

  @BeforeAll
  static void start() throws Exception {
    JsonObject json = TestProxy.baseConfig();
    json.put("bind", new JsonObject().put("accept-timeout", "2s"));
    proxy = TestProxy.start(json);
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
  }

  /** Sends BIND for {@code expected} (a, b, c, d) and returns the port of the first reply. */
  private static int bind(RawClient c, int... expected) throws IOException {
    c.send(bytes(5, 1, 0)).expect(bytes(5, 0));
    c.send(bytes(5, 2, 0, 1, expected[0], expected[1], expected[2], expected[3], 0, 0));
    byte[] first = c.readReply();
    assertThat(Arrays.copyOf(first, 8)).as("first reply").containsExactly(5, 0, 0, 1, 127, 0, 0, 1);
    return ((first[8] & 0xff) << 8) | (first[9] & 0xff);
  }

  private static Socket peer(String from, int port) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(10_000);
    return s;
  }

  @Test
  void bothRepliesDataBothWaysHalfCloseAndThePortIsReleased() throws Exception {
    int port;
    try (RawClient c = new RawClient(proxy.port())) {
      port = bind(c, 0, 0, 0, 0);
      try (Socket p = peer("127.0.0.1", port)) {
        byte[] second = c.readReply();
        assertThat(Arrays.copyOf(second, 8)).as("second reply").containsExactly(5, 0, 0, 1, 127, 0, 0, 1);
        assertThat(((second[8] & 0xff) << 8) | (second[9] & 0xff)).as("peer port").isEqualTo(p.getLocalPort());

        p.getOutputStream().write("from peer".getBytes());
        c.expect("from peer".getBytes());
        c.send("from client".getBytes());
        assertThat(p.getInputStream().readNBytes(11)).isEqualTo("from client".getBytes());

        // The peer finishes first; the client can still send, and then finishes too.
        p.shutdownOutput();
        c.expectClosed();
        c.send("after half-close".getBytes());
        assertThat(p.getInputStream().readNBytes(16)).isEqualTo("after half-close".getBytes());
        c.socket.shutdownOutput();
        assertThat(p.getInputStream().read()).isEqualTo(-1);
      }
    }
    assertReleased(port);
  }

  /** The BIND port refuses connections within 5 s (closing the listener is asynchronous). */
  private static void assertReleased(int port) throws Exception {
    long deadline = System.currentTimeMillis() + 5000;
    while (true) {
      try {
        peer("127.0.0.1", port).close();
      } catch (ConnectException released) {
        return;
      }
      assertThat(System.currentTimeMillis()).as("BIND port still open 5 s after the session ended").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @Test
  void aPeerFromAnotherAddressIsRefusedAndTheWaitGoesOn() throws Exception {
    try (RawClient c = new RawClient(proxy.port())) {
      int port = bind(c, 127, 0, 0, 2);
      try (Socket wrong = peer("127.0.0.1", port)) {
        assertThat(wrong.getInputStream().read()).as("refused peer is closed").isEqualTo(-1);
      }
      try (Socket right = peer("127.0.0.2", port)) {
        byte[] second = c.readReply();
        assertThat(Arrays.copyOf(second, 8)).containsExactly(5, 0, 0, 1, 127, 0, 0, 2);
        right.getOutputStream().write("ok".getBytes());
        c.expect("ok".getBytes());
      }
    }
  }

  @Test
  void theAcceptDeadlineEndsTheWaitWithAFailureReply() throws Exception {
    try (RawClient c = new RawClient(proxy.port())) {
      int port = bind(c, 0, 0, 0, 0);
      c.expect(bytes(5, 4, 0, 1, 0, 0, 0, 0, 0, 0));
      c.expectClosed();
      assertReleased(port);
    }
  }

  @Test
  void theClientLeavingReleasesThePort() throws Exception {
    int port;
    try (RawClient c = new RawClient(proxy.port())) {
      port = bind(c, 0, 0, 0, 0);
    }
    assertReleased(port);
  }
}
