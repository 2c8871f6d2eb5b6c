package dev.vxsocks.proxy;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.LoopbackTargets.UdpEcho;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;

import static dev.vxsocks.testing.Bytes.bytes;
import static dev.vxsocks.testing.Bytes.concat;
import static org.assertj.core.api.Assertions.assertThat;

/** UDP ASSOCIATE with raw datagrams and with PySocks (Debian python3-socks), against loopback UDP echo servers. */
class UdpAssociationTest {

  static TestProxy proxy;
  /** Answer every datagram with "echo:" + its payload. */
  static UdpEcho echo4;
  static UdpEcho echo6;

  @BeforeAll
  static void start() throws Exception {
    proxy = TestProxy.start(TestProxy.baseConfig().put("udp", new JsonObject().put("idle-timeout", "30s")));
    echo4 = UdpEcho.start("127.0.0.1", "echo:".getBytes());
    echo6 = UdpEcho.start("::1", "echo:".getBytes());
  }

  @AfterAll
  static void stop() throws Exception {
    echo4.close();
    echo6.close();
    proxy.close();
  }

  /** An association: its control connection and the relay's address from the reply. */
  private record Association(RawClient control, InetSocketAddress relay) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      control.close();
    }
  }

  private static Association associate(int announcedPort) throws IOException {
    RawClient c = new RawClient(proxy.port());
    c.send(bytes(5, 1, 0)).expect(bytes(5, 0));
    c.send(bytes(5, 3, 0, 1, 0, 0, 0, 0, announcedPort >> 8, announcedPort & 0xff));
    byte[] reply = c.readReply();
    assertThat(Arrays.copyOf(reply, 8)).as("reply carries the node's own loopback address").containsExactly(5, 0, 0, 1, 127, 0, 0, 1);
    return new Association(c, new InetSocketAddress("127.0.0.1", ((reply[8] & 0xff) << 8) | (reply[9] & 0xff)));
  }

  private static byte[] header(int frag, byte[] atypAndAddr, int port) {
    return concat(bytes(0, 0, frag), atypAndAddr, bytes(port >> 8, port & 0xff));
  }

  private static byte[] ipv4(int a, int b, int c, int d) {
    return bytes(1, a, b, c, d);
  }

  private static byte[] ipv6Loopback() {
    byte[] b = new byte[17];
    b[0] = 4;
    b[16] = 1;
    return b;
  }

  private static byte[] domain(String name) {
    return concat(bytes(3, name.length()), name.getBytes());
  }

  private static DatagramSocket client(String host) throws IOException {
    DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(host), 0));
    s.setSoTimeout(3000);
    return s;
  }

  private static void send(DatagramSocket s, InetSocketAddress relay, byte[] datagram) throws IOException {
    s.send(new DatagramPacket(datagram, datagram.length, relay));
  }

  private static byte[] receive(DatagramSocket s) throws IOException {
    byte[] buf = new byte[65535];
    DatagramPacket p = new DatagramPacket(buf, buf.length);
    s.receive(p);
    return Arrays.copyOf(p.getData(), p.getLength());
  }

  private static void expectNothing(DatagramSocket s) throws IOException {
    s.setSoTimeout(400);
    try {
      byte[] got = receive(s);
      throw new AssertionError("expected the datagram to be dropped, got " + HexFormat.of().formatHex(got));
    } catch (SocketTimeoutException dropped) {
      // as expected
    } finally {
      s.setSoTimeout(3000);
    }
  }

  @Test
  void everyAddressTypeGetsItsAnswerWrappedInAHeaderNamingTheSource() throws Exception {
    try (DatagramSocket udp = client("127.0.0.1"); Association a = associate(0)) {
      send(udp, a.relay(), concat(header(0, ipv4(127, 0, 0, 1), echo4.port()), "v4".getBytes()));
      assertThat(receive(udp)).isEqualTo(concat(header(0, ipv4(127, 0, 0, 1), echo4.port()), "echo:v4".getBytes()));

      send(udp, a.relay(), concat(header(0, ipv6Loopback(), echo6.port()), "v6".getBytes()));
      assertThat(receive(udp)).isEqualTo(concat(header(0, ipv6Loopback(), echo6.port()), "echo:v6".getBytes()));

      send(udp, a.relay(), concat(header(0, domain("localhost"), echo4.port()), "name".getBytes()));
      assertThat(receive(udp)).isEqualTo(concat(header(0, ipv4(127, 0, 0, 1), echo4.port()), "echo:name".getBytes()));
    }
  }

  @Test
  void droppedDatagramsAreCountedAndTheAssociationKeepsWorking() throws Exception {
    try (LogCapture logs = new LogCapture("dev.vxsocks.session", Level.INFO);
         DatagramSocket udp = client("127.0.0.1"); DatagramSocket foreign = client("127.0.0.2")) {
      int controlPort;
      try (Association a = associate(0)) {
        controlPort = a.control().socket.getLocalPort();
        byte[] good = concat(header(0, ipv4(127, 0, 0, 1), echo4.port()), "ok".getBytes());
        // From another source address: dropped, and nothing reaches the echo server for it.
        send(foreign, a.relay(), good);
        expectNothing(foreign);
        // FRAG != 0: dropped (RFC 1928 §7 allows a server not to reassemble).
        send(udp, a.relay(), concat(header(1, ipv4(127, 0, 0, 1), echo4.port()), "frag".getBytes()));
        expectNothing(udp);
        // Truncated headers and an unknown ATYP: dropped.
        for (byte[] bad : List.of(bytes(0, 0, 0), bytes(0, 0, 0, 1, 127, 0), bytes(0, 0, 0, 3, 9, 'l'), bytes(0, 0, 0, 9, 1, 2, 3, 4, 0, 80))) {
          send(udp, a.relay(), bad);
        }
        expectNothing(udp);
        // A destination the rules deny: dropped.
        send(udp, a.relay(), concat(header(0, ipv4(127, 0, 0, 66), echo4.port()), "denied".getBytes()));
        expectNothing(udp);
        // And a good one still goes through.
        send(udp, a.relay(), good);
        assertThat(receive(udp)).isEqualTo(concat(header(0, ipv4(127, 0, 0, 1), echo4.port()), "echo:ok".getBytes()));
      }
      String summary = logs.await("client=127.0.0.1:" + controlPort + " ", 5000);
      assertThat(summary).contains("udp_up=1/2", "udp_down=1/7", "dropped_foreign_source=1", "dropped_fragmented=1",
          "dropped_malformed=4", "dropped_denied=1", "close=\"control connection ended\"");
    }
  }

  @Test
  void anAnnouncedSourcePortIsTheOnlyOneAccepted() throws Exception {
    try (DatagramSocket udp = client("127.0.0.1"); DatagramSocket other = client("127.0.0.1");
         Association a = associate(udp.getLocalPort())) {
      byte[] good = concat(header(0, ipv4(127, 0, 0, 1), echo4.port()), "p".getBytes());
      send(other, a.relay(), good);
      expectNothing(other);
      send(udp, a.relay(), good);
      assertThat(receive(udp)).endsWith("echo:p".getBytes());
    }
  }

  @Test
  void closingTheControlConnectionReleasesTheUdpSocket() throws Exception {
    InetSocketAddress relay;
    try (Association a = associate(0)) {
      relay = a.relay();
    }
    long deadline = System.currentTimeMillis() + 5000;
    while (true) {
      try (DatagramSocket s = new DatagramSocket(relay)) {
        return; // the port could be bound again: the relay socket is gone
      } catch (java.net.BindException stillHeld) {
        assertThat(System.currentTimeMillis()).as("UDP relay port still held 5 s after the control connection closed").isLessThan(deadline);
        Thread.sleep(50);
      }
    }
  }

  @Test
  void pySocksUdpToIpv4Ipv6AndLocalhost() throws Exception {
    String script = String.join("\n",
        "import socket, sys, socks",
        "port, e4, e6 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])",
        "for dest in ((\"127.0.0.1\", e4), (\"::1\", e6), (\"localhost\", e4)):",
        "    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)",
        "    s.set_proxy(socks.SOCKS5, \"127.0.0.1\", port, rdns=True)",
        "    s.settimeout(5)",
        "    s.sendto(b\"py\", dest)",
        "    data, source = s.recvfrom(1000)",
        "    print(dest[0], data.decode(), source[0], source[1])",
        "    s.close()");
    Process p = new ProcessBuilder("/usr/bin/python3", "-c", script, Integer.toString(proxy.port()),
        Integer.toString(echo4.port()), Integer.toString(echo6.port())).redirectErrorStream(true).start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("PySocks did not finish within 30 s");
    }
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.exitValue()).as("python3 with PySocks (Debian package python3-socks) failed:\n" + out).isZero();
    assertThat(out.lines().toList()).containsExactly(
        "127.0.0.1 echo:py 127.0.0.1 " + echo4.port(),
        "::1 echo:py ::1 " + echo6.port(),
        "localhost echo:py 127.0.0.1 " + echo4.port());
  }
}
