package dev.vxsocks.proxy;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.LoopbackTargets.UdpEcho;
import dev.vxsocks.testing.SharedTargets;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.Bytes.bytes;
import static dev.vxsocks.testing.Bytes.concat;
import static dev.vxsocks.testing.RawClient.connectIpv4;
import static dev.vxsocks.testing.SharedTargets.echo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PROXY protocol as a node meets it: a "balancer" socket bound to 127.0.0.9 (listed in
 * {@code listen.proxy-protocol-from}) sends headers written here byte by byte, and clients bound to other loopback
 * addresses connect directly. The address in a trusted header must drive client rules, per-IP limits, the UDP
 * relay's source check and the log line; nobody else can name an address. (HAProxy itself sends the headers in
 * launcher's {@code HaproxyClusterTest}.)
 */
@ExtendWith(SharedTargets.class)
class ProxyProtocolTest {

  private static final String BALANCER = "127.0.0.9";
  private static final int TIMEOUT_MS = 10_000;
  private LogCapture log;
  private TestProxy running;

  @BeforeEach
  void capture() {
    log = new LogCapture();
  }

  @AfterEach
  void stop() throws Exception {
    log.close();
    if (running != null) {
      running.close();
    }
  }

  /** The node of this test, closed after it. */
  private TestProxy start(JsonObject extraListen, JsonObject limits) throws Exception {
    JsonObject cfg = TestProxy.config("none");
    cfg.getJsonObject("listen").put("proxy-protocol-from", new JsonArray().add(BALANCER + "/32"))
        .put("proxy-protocol-timeout", "500ms");
    extraListen.forEach(e -> cfg.getJsonObject("listen").put(e.getKey(), e.getValue()));
    cfg.getJsonObject("rules").put("client", new JsonArray()
        .add(new JsonObject().put("action", "deny").put("from", new JsonArray().add("127.0.0.3/32")))
        .add(new JsonObject().put("action", "allow").put("from", new JsonArray().add("127.0.0.0/8"))));
    // UDP ASSOCIATE is checked without a destination first: a rule open to every destination must allow it.
    cfg.getJsonObject("rules").getJsonArray("request").add(new JsonObject().put("action", "allow")
        .put("commands", new JsonArray().add("udp-associate")));
    if (limits != null) {
      cfg.put("limits", limits);
    }
    running = TestProxy.start(cfg);
    return running;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Headers, written out by hand (HAProxy's doc/proxy-protocol.txt, sections 2.1 and 2.2).

  private static final byte[] V2_SIGNATURE = bytes(0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A);

  /** v2 PROXY, TCP over IPv4, from {@code src}:{@code srcPort} to 127.0.0.1:{@code dstPort}. */
  private static byte[] v2(String src, int srcPort, int dstPort) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(V2_SIGNATURE);
    out.write(0x21); // version 2, PROXY
    out.write(0x11); // AF_INET, STREAM
    out.write(new byte[] {0, 12});
    out.write(InetAddress.getByName(src).getAddress());
    out.write(new byte[] {127, 0, 0, 1});
    out.write(new byte[] {(byte) (srcPort >> 8), (byte) srcPort, (byte) (dstPort >> 8), (byte) dstPort});
    return out.toByteArray();
  }

  /** v2 LOCAL with no address block: what HAProxy sends on a health check with check-send-proxy. */
  private static byte[] v2Local() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(V2_SIGNATURE);
    out.write(new byte[] {0x20, 0x00, 0x00, 0x00});
    return out.toByteArray();
  }

  private static byte[] v1(String src, int srcPort, int dstPort) {
    return ("PROXY TCP4 " + src + " 127.0.0.1 " + srcPort + " " + dstPort + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** Greeting (no auth) and CONNECT 127.0.0.1:{@code port}, pipelined. */
  private static byte[] connect(int port) {
    return concat(bytes(0x05, 0x01, 0x00), connectIpv4(127, 0, 0, 1, port));
  }

  private static Socket from(String source, int port) throws IOException {
    Socket s = new Socket();
    s.setSoTimeout(TIMEOUT_MS);
    s.bind(new InetSocketAddress(source, 0));
    s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
    return s;
  }

  /** Reads the method selection and the 10-byte IPv4 reply; returns the reply code. */
  private static int readReply(InputStream in) throws IOException {
    DataInputStream d = new DataInputStream(in);
    byte[] method = new byte[2];
    d.readFully(method);
    assertThat(method).containsExactly(0x05, 0x00);
    byte[] reply = new byte[10];
    d.readFully(reply);
    return reply[1];
  }

  /** Whatever the node sends before it closes (at most 64 bytes). */
  private static byte[] untilClosed(Socket s) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[64];
    for (int n; (n = s.getInputStream().read(buf)) >= 0 && got.size() < 64; ) {
      got.write(buf, 0, n);
    }
    return got.toByteArray();
  }

  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void v2HeaderFromTheBalancerNamesTheClient() throws Exception {
    TestProxy node = start(new JsonObject(), null);
    try (Socket s = from(BALANCER, node.port())) {
      // Header, greeting, request and payload in one write: nothing behind the header may be lost.
      s.getOutputStream().write(concat(v2("127.0.0.2", 40002, node.port()), connect(echo().port()), bytes('h', 'i')));
      assertThat(readReply(s.getInputStream())).isZero();
      byte[] echoed = new DataInputStream(s.getInputStream()).readNBytes(2);
      assertThat(new String(echoed, StandardCharsets.US_ASCII)).isEqualTo("hi");
      String via = BALANCER + ":" + s.getLocalPort();
      s.close();
      assertThat(log.awaitLine("client=127.0.0.2:40002 via=" + via + " user=- cmd=connect")).as(log.text()).isTrue();
    }
  }

  @Test
  void v1HeaderWorksAndClientRulesSeeTheHeadersAddress() throws Exception {
    TestProxy node = start(new JsonObject(), null);
    try (Socket allowed = from(BALANCER, node.port())) {
      allowed.getOutputStream().write(concat(v1("127.0.0.2", 40012, node.port()), connect(echo().port())));
      assertThat(readReply(allowed.getInputStream())).isZero();
    }
    // rules.client denies 127.0.0.3: refused at accept, before any SOCKS byte is answered.
    try (Socket denied = from(BALANCER, node.port())) {
      denied.getOutputStream().write(concat(v1("127.0.0.3", 40013, node.port()), connect(echo().port())));
      assertThat(untilClosed(denied)).isEmpty();
    }
    assertThat(log.awaitLine("client=127.0.0.3:40013 via=" + BALANCER)).as(log.text()).isTrue();
    // The first session's line comes when the proxy has seen its close, which may be after the second's.
    assertThat(log.awaitLine("client=127.0.0.2:40012 via=" + BALANCER)).as(log.text()).isTrue();
    assertThat(log.text()).containsPattern("client=127\\.0\\.0\\.3:40013 via=\\S+ user=- cmd=- target=- reply=- .* close=\"client rules: ");
  }

  /** Per-IP limits count the address in the header: two clients behind one balancer are two addresses. */
  @Test
  void perClientIpLimitCountsTheHeadersAddress() throws Exception {
    TestProxy node = start(new JsonObject(), new JsonObject().put("sessions-per-client-ip", 2));
    List<Socket> open = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        Socket s = from(BALANCER, node.port());
        open.add(s);
        s.getOutputStream().write(concat(v2("127.0.0.2", 41000 + i, node.port()), connect(echo().port())));
        assertThat(readReply(s.getInputStream())).as("session %d of 127.0.0.2", i).isZero();
      }
      Socket third = from(BALANCER, node.port());
      open.add(third);
      third.getOutputStream().write(concat(v2("127.0.0.2", 41002, node.port()), connect(echo().port())));
      assertThat(readReply(third.getInputStream())).as("the third of 127.0.0.2").isEqualTo(0x02);
      Socket other = from(BALANCER, node.port());
      open.add(other);
      other.getOutputStream().write(concat(v2("127.0.0.4", 41003, node.port()), connect(echo().port())));
      assertThat(readReply(other.getInputStream())).as("127.0.0.4 has a limit of its own").isZero();
    } finally {
      for (Socket s : open) {
        s.close();
      }
    }
  }

  /** Only a listed balancer may name an address: from anyone else a header is a protocol error, never believed. */
  @Test
  void aDirectClientCannotForgeItsAddress() throws Exception {
    TestProxy node = start(new JsonObject(), null);
    try (Socket forged = from("127.0.0.2", node.port())) {
      forged.getOutputStream().write(concat(v1("127.0.0.66", 1, node.port()), connect(echo().port())));
      assertThat(untilClosed(forged)).as("nothing answered").isEmpty();
    }
    try (Socket forged = from("127.0.0.2", node.port())) {
      forged.getOutputStream().write(concat(v2("127.0.0.66", 2, node.port()), connect(echo().port())));
      assertThat(untilClosed(forged)).as("nothing answered").isEmpty();
    }
    assertThat(log.awaitLine("PROXY protocol header from 127.0.0.2:")).as(log.text()).isTrue();
    assertThat(log.text()).doesNotContain("127.0.0.66").contains("which is not in listen.proxy-protocol-from");
    assertThat(node.server.stats().untrustedProxyHeaders()).isEqualTo(2);
    // The same client without a header is served as itself.
    try (Socket direct = from("127.0.0.2", node.port())) {
      direct.getOutputStream().write(connect(echo().port()));
      assertThat(readReply(direct.getInputStream())).isZero();
      int port = direct.getLocalPort();
      direct.close();
      assertThat(log.awaitLine("client=127.0.0.2:" + port + " user=-")).as(log.text()).isTrue();
    }
  }

  @Test
  void aTrustedPeerWithoutAHeaderIsClosed() throws Exception {
    TestProxy node = start(new JsonObject(), null);
    try (Socket silent = from(BALANCER, node.port())) {
      long start = System.nanoTime();
      assertThat(untilClosed(silent)).isEmpty();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("closed by the 500 ms header timeout, not"
          + " the 10 s handshake timeout").isLessThan(5_000);
    }
    assertThat(log.awaitLine("close=\"no PROXY protocol header within 500ms\"")).as(log.text()).isTrue();
    // A SOCKS greeting instead of a header is refused at its first byte.
    try (Socket socks = from(BALANCER, node.port())) {
      socks.getOutputStream().write(connect(echo().port()));
      assertThat(untilClosed(socks)).isEmpty();
    }
    assertThat(log.awaitLine("close=\"bad PROXY protocol header: ")).as(log.text()).isTrue();
    assertThat(node.server.stats().proxyHeaderFailures()).isEqualTo(2);
  }

  /** A v2 LOCAL header (the balancer's own health check) is served as a connection from the balancer itself. */
  @Test
  void aLocalHeaderIsTheBalancerItself() throws Exception {
    TestProxy node = start(new JsonObject(), null);
    try (Socket check = from(BALANCER, node.port())) {
      check.getOutputStream().write(concat(v2Local(), bytes(0x05, 0x01, 0x00)));
      assertThat(new DataInputStream(check.getInputStream()).readNBytes(2)).containsExactly(0x05, 0x00);
      int port = check.getLocalPort();
      check.close();
      assertThat(log.awaitLine("client=" + BALANCER + ":" + port + " user=-")).as(log.text()).isTrue();
    }
  }

  /**
   * UDP ASSOCIATE behind a balancer: the datagrams come straight from the client, so the relay's source check must
   * use the header's address. From the balancer's own address they are foreign.
   */
  @Test
  void udpRelayAcceptsDatagramsFromTheHeadersAddress() throws Exception {
    TestProxy node = start(new JsonObject(), null);
    try (UdpEcho udpEcho = UdpEcho.start("127.0.0.1");
         DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0));
         DatagramSocket balancerUdp = new DatagramSocket(new InetSocketAddress(BALANCER, 0));
         Socket control = from(BALANCER, node.port())) {
      client.setSoTimeout(TIMEOUT_MS);
      // UDP ASSOCIATE announcing DST 0.0.0.0:0 (the client does not know its address yet).
      control.getOutputStream().write(concat(v2("127.0.0.2", client.getLocalPort(), node.port()),
          bytes(0x05, 0x01, 0x00, 0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0)));
      DataInputStream in = new DataInputStream(control.getInputStream());
      assertThat(in.readNBytes(2)).containsExactly(0x05, 0x00);
      byte[] reply = in.readNBytes(10);
      assertThat(reply[1]).isZero();
      InetSocketAddress relay = new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOfRange(reply, 4, 8)),
          ((reply[8] & 0xFF) << 8) | (reply[9] & 0xFF));
      int echoPort = udpEcho.port();
      byte[] datagram = concat(bytes(0, 0, 0, 0x01, 127, 0, 0, 1, echoPort >> 8, echoPort & 0xFF), bytes('p', 'i', 'n', 'g'));
      // From the balancer's address: dropped (the client is 127.0.0.2 now).
      balancerUdp.send(new DatagramPacket(datagram, datagram.length, relay));
      client.send(new DatagramPacket(datagram, datagram.length, relay));
      DatagramPacket answer = new DatagramPacket(new byte[2048], 2048);
      client.receive(answer);
      assertThat(new String(answer.getData(), 10, answer.getLength() - 10, StandardCharsets.US_ASCII)).isEqualTo("ping");
      balancerUdp.setSoTimeout(300);
      try {
        balancerUdp.receive(new DatagramPacket(new byte[2048], 2048));
        throw new AssertionError("the balancer's datagram was relayed");
      } catch (SocketTimeoutException expected) {
        // dropped
      }
      control.close();
      assertThat(log.awaitLine("dropped_foreign_source=1")).as(log.text()).isTrue();
      assertThat(log.text()).contains("client=127.0.0.2:" + client.getLocalPort() + " via=" + BALANCER);
    }
  }
}
