package dev.vxsocks.proxy.gssapi;

import dev.vxsocks.testing.GssSocksClient;
import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestKdc;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.security.auth.Subject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.LoopbackTargets.sha256Hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GSS-API (RFC 1961) end to end with a client of our own on the JDK's Kerberos, against the test realm
 * ({@link TestKdc}): context establishment, each protection level with the request, the reply and 1 MiB each way
 * wrapped (digests compared, half-close included), the NEC variant, and the refusals: the wrong key, a disabled user,
 * a principal of no listed realm, malformed and truncated messages, a client that stalls mid-context.
 */
class GssapiSessionTest {

  private static final int MIB = 1024 * 1024;
  private static TestKdc kdc;
  private static Subject alice;
  private static TcpTarget echo;
  private final List<TestProxy> proxies = new ArrayList<>();
  private LogCapture log;

  @BeforeAll
  static void realm() throws Exception {
    kdc = TestKdc.get();
    alice = kdc.login("alice");
    echo = TcpTarget.echo("127.0.0.1");
  }

  @AfterAll
  static void stopTarget() throws Exception {
    echo.close();
  }

  @BeforeEach
  void capture() {
    log = new LogCapture();
  }

  @AfterEach
  void stop() throws Exception {
    log.close();
    for (TestProxy p : proxies) {
      p.close();
    }
  }

  /** A node offering GSS-API only, with the service's current keytab and the test realm mapped to short names. */
  static JsonObject config(Path keytab) {
    JsonObject c = TestProxy.config("gssapi");
    c.getJsonObject("auth").put("gssapi", new JsonObject().put("keytab", keytab.toString())
        .put("principal", TestKdc.SERVICE));
    c.getJsonArray("users").add(new JsonObject().put("name", "bob").put("password", TestProxy.PASSWORD_HASH)
        .put("enabled", false));
    c.put("timeouts", new JsonObject().put("handshake", "2s"));
    return c;
  }

  private int start(JsonObject config) throws Exception {
    TestProxy p = TestProxy.start(config);
    proxies.add(p);
    return p.port();
  }

  private GssSocksClient authenticated(int port, Subject who) throws Exception {
    GssSocksClient c = new GssSocksClient(port, who);
    assertThat(c.greet()).as("method chosen").isEqualTo(1);
    c.establish(TestKdc.SERVICE);
    return c;
  }

  @Test
  void withoutProtectionTheSessionGoesOnInTheClear() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    try (GssSocksClient c = authenticated(port, alice)) {
      assertThat(c.negotiate(0, false)).isZero();
      c.write(RawClient.connectIpv4(127, 0, 0, 1, echo.port()));
      byte[] reply = c.readReply();
      assertThat(reply[1]).as("REP").isZero();
      c.write("ping".getBytes());
      assertThat(new String(c.readExactly(4))).isEqualTo("ping");
    }
    String line = log.await("close=", 5000);
    assertThat(line).contains("user=alice ").contains("principal=alice@VXSOCKS.TEST protection=none")
        .contains("reply=succeeded");
  }

  @Test
  void necStyleLevelMessageIsAnsweredTheSameWay() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    try (GssSocksClient c = authenticated(port, alice)) {
      assertThat(c.negotiate(0, true)).isZero();
      c.write(RawClient.connectIpv4(127, 0, 0, 1, echo.port()));
      assertThat(c.readReply()[1]).isZero();
    }
  }

  /**
   * Level 1, 2 and 3: the request, the reply and 1 MiB each way in MTYP 3 messages; the client half-closes after
   * sending, the echo target answers everything and closes, the client reads to the end: the digests match.
   */
  @ParameterizedTest(name = "level {0}")
  @ValueSource(ints = {1, 2, 3})
  void protectedConnectCarriesOneMebibyteEachWay(int level) throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    byte[] up = new byte[MIB];
    new Random(level).nextBytes(up);
    try (GssSocksClient c = authenticated(port, alice)) {
      assertThat(c.negotiate(level, false)).isEqualTo(level);
      c.write(RawClient.connectIpv4(127, 0, 0, 1, echo.port()));
      byte[] reply = c.readReply();
      assertThat(reply[1]).as("REP").isZero();
      CompletableFuture<byte[]> down = CompletableFuture.supplyAsync(() -> {
        try {
          return c.readToEnd();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      c.write(up);
      c.socket.shutdownOutput();
      byte[] back = down.get(30, TimeUnit.SECONDS);
      assertThat(back.length).isEqualTo(MIB);
      assertThat(sha256Hex(back)).isEqualTo(sha256Hex(up));
    }
    String line = log.await("close=", 5000);
    assertThat(line).contains("user=alice ").contains("up=" + MIB + " ").contains("down=" + MIB + " ")
        .contains("protection=" + ProtectionLevels.word(level)).contains("close=\"completed\"");
  }

  @Test
  void theWrongKeyIsRefusedWithAbort() throws Exception {
    int port = start(config(kdc.staleKeytab()));
    try (GssSocksClient c = new GssSocksClient(port, alice)) {
      assertThat(c.greet()).isEqualTo(1);
      assertThatThrownBy(() -> c.establish(TestKdc.SERVICE)).isInstanceOf(GssSocksClient.Refused.class);
    }
    assertThat(log.await("close=", 5000)).contains("auth failed: gssapi:");
  }

  @Test
  void anotherServicesKeytabIsRefusedWithAbort() throws Exception {
    JsonObject c = config(kdc.otherServiceKeytab());
    c.getJsonObject("auth").getJsonObject("gssapi").remove("principal");
    c.getJsonObject("auth").getJsonObject("gssapi").put("realms", new JsonArray().add(TestKdc.REALM));
    int port = start(c);
    try (GssSocksClient client = new GssSocksClient(port, alice)) {
      assertThat(client.greet()).isEqualTo(1);
      assertThatThrownBy(() -> client.establish(TestKdc.SERVICE)).isInstanceOf(GssSocksClient.Refused.class);
    }
    assertThat(log.await("close=", 5000)).contains("auth failed: gssapi:");
  }

  @Test
  void aDisabledUserIsRefusedWhateverTheMethod() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    try (GssSocksClient c = new GssSocksClient(port, kdc.login("bob"))) {
      assertThat(c.greet()).isEqualTo(1);
      assertThatThrownBy(() -> c.establish(TestKdc.SERVICE)).isInstanceOf(GssSocksClient.Refused.class);
    }
    assertThat(log.await("close=", 5000)).contains("user=bob ").contains("auth failed: disabled");
  }

  @Test
  void aPrincipalOutsideTheRealmsIsRefusedOrKeptWholeWhenConfigured() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    Subject carol = kdc.login("carol/admin");
    try (GssSocksClient c = new GssSocksClient(port, carol)) {
      assertThat(c.greet()).isEqualTo(1);
      assertThatThrownBy(() -> c.establish(TestKdc.SERVICE)).isInstanceOf(GssSocksClient.Refused.class);
    }
    assertThat(log.await("close=", 5000)).contains("principal not in auth.gssapi.realms");

    JsonObject keep = config(kdc.serviceKeytab());
    keep.getJsonObject("auth").getJsonObject("gssapi").put("other-principals", "keep");
    int keeping = start(keep);
    try (GssSocksClient c = authenticated(keeping, carol)) {
      assertThat(c.negotiate(0, false)).isZero();
      c.write(RawClient.connectIpv4(127, 0, 0, 1, echo.port()));
      assertThat(c.readReply()[1]).isZero();
    }
    assertThat(log.await("user=carol/admin@VXSOCKS.TEST cmd=connect", 5000)).contains("reply=succeeded");
  }

  /**
   * UDP ASSOCIATE under a level: the request and reply wrapped on the control connection, and each datagram both ways
   * one MTYP 3 message whose token wraps the SOCKS UDP packet; a datagram that does not unwrap is dropped and counted.
   */
  @ParameterizedTest(name = "level {0}")
  @ValueSource(ints = {1, 2})
  void udpDatagramsUnderProtectionAreWrappedBothWays(int level) throws Exception {
    JsonObject c0 = config(kdc.serviceKeytab());
    // The association (to 0.0.0.0) needs a rule open to every address; its datagrams to loopback one naming it.
    c0.getJsonObject("rules").getJsonArray("request").add(0, new JsonObject().put("action", "allow")
        .put("commands", new JsonArray().add("udp-associate")).put("to", new JsonArray().add("0.0.0.0/0")));
    c0.getJsonObject("rules").getJsonArray("request").add(0, new JsonObject().put("action", "allow")
        .put("commands", new JsonArray().add("udp-associate")).put("to", new JsonArray().add("127.0.0.0/8")));
    int port = start(c0);
    try (LoopbackTargets.UdpEcho udpEcho = LoopbackTargets.UdpEcho.start("127.0.0.1");
         GssSocksClient c = authenticated(port, alice);
         java.net.DatagramSocket udp = new java.net.DatagramSocket(0, LoopbackTargets.IPV4)) {
      udp.setSoTimeout(10_000);
      assertThat(c.negotiate(level, false)).isEqualTo(level);
      c.write(RawClient.request(RawClient.UDP_ASSOCIATE, 0, 0, 0, 0, 0));
      byte[] reply = c.readReply();
      assertThat(reply[1]).as("REP").isZero();
      int relayPort = ((reply[8] & 0xFF) << 8) | (reply[9] & 0xFF);
      java.net.InetAddress relay = java.net.InetAddress.getByAddress(java.util.Arrays.copyOfRange(reply, 4, 8));

      byte[] packet = dev.vxsocks.testing.Bytes.concat(new byte[] {0, 0, 0, 1, 127, 0, 0, 1,
          (byte) (udpEcho.port() >> 8), (byte) udpEcho.port()}, "ping over kerberos".getBytes());
      byte[] garbage = GssSocksClient.message(3, new byte[40]);
      udp.send(new java.net.DatagramPacket(garbage, garbage.length, relay, relayPort));
      byte[] token = c.context().wrap(packet, 0, packet.length, new org.ietf.jgss.MessageProp(0, level == 2));
      byte[] datagram = GssSocksClient.message(3, token);
      udp.send(new java.net.DatagramPacket(datagram, datagram.length, relay, relayPort));

      java.net.DatagramPacket answer = new java.net.DatagramPacket(new byte[65535], 65535);
      udp.receive(answer);
      byte[] got = java.util.Arrays.copyOf(answer.getData(), answer.getLength());
      assertThat(got[0]).isEqualTo((byte) 1);
      assertThat(got[1]).isEqualTo((byte) 3);
      assertThat(((got[2] & 0xFF) << 8) | (got[3] & 0xFF)).isEqualTo(got.length - 4);
      org.ietf.jgss.MessageProp prop = new org.ietf.jgss.MessageProp(0, false);
      byte[] plain = c.context().unwrap(got, 4, got.length - 4, prop);
      assertThat(prop.getPrivacy()).isEqualTo(level == 2);
      assertThat(java.util.Arrays.copyOfRange(plain, 10, plain.length)).isEqualTo("ping over kerberos".getBytes());
      assertThat(java.util.Arrays.copyOfRange(plain, 0, 4)).as("RSV FRAG ATYP").isEqualTo(new byte[] {0, 0, 0, 1});
    }
    assertThat(log.await("close=", 5000)).contains("cmd=udp-associate").contains("udp_up=1/18")
        .contains("udp_down=1/18").contains("dropped_malformed=1");
  }

  @Test
  void aClientStallingMidContextIsClosedByTheHandshakeTimeout() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    try (GssSocksClient c = authenticated(port, alice)) {
      // established; the protection level never comes
      long t0 = System.nanoTime();
      assertThat(c.receive(1)).isEmpty();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(6000);
    }
    assertThat(log.await("close=", 5000)).contains("handshake timeout in auth");
  }

  /** A request rule naming alice applies to her Kerberos session (its refusal wrapped like any reply). */
  @Test
  void aRuleForTheMappedUserApplies() throws Exception {
    JsonObject c = config(kdc.serviceKeytab());
    c.getJsonObject("rules").getJsonArray("request").add(0, new JsonObject().put("action", "deny")
        .put("users", new JsonArray().add("alice")).put("ports", new JsonArray().add(String.valueOf(echo.port()))));
    int port = start(c);
    try (GssSocksClient client = authenticated(port, alice)) {
      assertThat(client.negotiate(2, false)).isEqualTo(2);
      client.write(RawClient.connectIpv4(127, 0, 0, 1, echo.port()));
      assertThat(client.readReply()[1]).as("REP: not allowed").isEqualTo((byte) 2);
    }
    assertThat(log.await("close=", 5000)).contains("user=alice ").contains("denied: rules.request[0]");
  }

  /** With one session per user, alice's held Kerberos session makes her next one wait, whatever its level. */
  @Test
  void aPerUserLimitCountsKerberosSessions() throws Exception {
    JsonObject c = config(kdc.serviceKeytab());
    c.put("limits", new JsonObject().put("sessions-per-user", 1));
    int port = start(c);
    try (GssSocksClient held = authenticated(port, alice)) {
      assertThat(held.negotiate(0, false)).isZero();
      held.write(RawClient.connectIpv4(127, 0, 0, 1, echo.port()));
      assertThat(held.readReply()[1]).isZero();
      try (GssSocksClient second = authenticated(port, alice)) {
        assertThat(second.negotiate(1, false)).isEqualTo(1);
        second.write(RawClient.connectIpv4(127, 0, 0, 1, echo.port()));
        assertThat(second.readReply()[1]).as("REP: not allowed (limit)").isEqualTo((byte) 2);
      }
      assertThat(log.await("sessions-per-user limit 1 reached for alice", 5000)).contains("user=alice ");
    }
  }

  /** Raw bytes after the greeting; the proxy's answer, until it closes. */
  private byte[] afterGreeting(int port, byte[] raw) throws Exception {
    try (GssSocksClient c = new GssSocksClient(port, alice)) {
      assertThat(c.greet()).isEqualTo(1);
      c.send(raw);
      return c.receive(64);
    }
  }

  @Test
  void malformedContextMessagesAreAnsweredWithAbort() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    byte[] abort = {1, (byte) 0xFF};
    assertThat(afterGreeting(port, new byte[] {2, 1, 0, 1, 0})).isEqualTo(abort);
    assertThat(log.await("VER is 2", 5000)).contains("protocol error: gssapi");
    assertThat(afterGreeting(port, new byte[] {1, 3, 0, 1, 0})).isEqualTo(abort);
    assertThat(log.await("MTYP is 3, expected 1", 5000)).contains("protocol error: gssapi");
    byte[] garbage = new byte[20];
    new Random(3).nextBytes(garbage);
    assertThat(afterGreeting(port, GssSocksClient.message(1, garbage))).isEqualTo(abort);
  }

  @Test
  void aTokenOf65535BytesIsReadWholeAndRefusedWhenItIsNotKerberos() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    byte[] token = new byte[65535];
    new Random(65535).nextBytes(token);
    token[0] = 0x60;
    assertThat(afterGreeting(port, GssSocksClient.message(1, token))).isEqualTo(new byte[] {1, (byte) 0xFF});
    assertThat(log.await("close=", 5000)).contains("auth failed: gssapi:");
  }

  @Test
  void aTruncatedTokenEndsWithTheClientOrTheHandshakeTimeout() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    byte[] partial = {1, 1, 0x03, (byte) 0xE8, 1, 2, 3, 4, 5};
    try (GssSocksClient c = new GssSocksClient(port, alice)) {
      assertThat(c.greet()).isEqualTo(1);
      c.send(partial);
      c.socket.shutdownOutput();
      assertThat(c.receive(1)).isEmpty();
    }
    assertThat(log.await("close=", 5000)).contains("client ended during auth");
    try (GssSocksClient c = new GssSocksClient(port, alice)) {
      assertThat(c.greet()).isEqualTo(1);
      c.send(partial);
      assertThat(c.receive(1)).as("closed by the handshake timeout").isEmpty();
    }
    assertThat(log.await("handshake timeout", 5000)).contains("handshake timeout in auth");
  }

  @Test
  void theClientsAbortEndsTheSession() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    assertThat(afterGreeting(port, new byte[] {1, (byte) 0xFF})).isEmpty();
    assertThat(log.await("close=", 5000)).contains("auth failed: gssapi: the client aborted");
  }

  @Test
  void aBadProtectionLevelMessageIsAnsweredWithAbort() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    byte[] garbage = new byte[40];
    new Random(2).nextBytes(garbage);
    try (GssSocksClient c = authenticated(port, alice)) {
      c.send(GssSocksClient.message(2, garbage));
      assertThat(c.receive(64)).isEqualTo(new byte[] {1, (byte) 0xFF});
    }
    assertThat(log.await("close=", 5000)).contains("the protection level does not unwrap");
    try (GssSocksClient c = authenticated(port, alice)) {
      c.send(GssSocksClient.message(2, new byte[] {9}));
      assertThat(c.receive(64)).isEqualTo(new byte[] {1, (byte) 0xFF});
    }
    assertThat(log.await("protection level 9 is not a level", 5000)).contains("user=alice");
  }

  @Test
  void underProtectionAMessageThatDoesNotUnwrapEndsTheSession() throws Exception {
    int port = start(config(kdc.serviceKeytab()));
    byte[] garbage = new byte[60];
    new Random(4).nextBytes(garbage);
    try (GssSocksClient c = authenticated(port, alice)) {
      assertThat(c.negotiate(2, false)).isEqualTo(2);
      c.send(GssSocksClient.message(3, garbage));
      assertThat(c.receive(1)).isEmpty();
    }
    assertThat(log.await("close=", 5000)).contains("protocol error: gssapi: a message that does not unwrap");
    try (GssSocksClient c = authenticated(port, alice)) {
      assertThat(c.negotiate(1, false)).isEqualTo(1);
      c.write(RawClient.connectIpv4(127, 0, 0, 1, echo.port()));
      assertThat(c.readReply()[1]).isZero();
      c.send(new byte[] {1, 3, 0, 50, 1, 2, 3});
      c.socket.shutdownOutput();
      assertThat(c.readToEnd()).isEmpty();
    }
    assertThat(log.await("in the middle of a GSS-API message", 5000)).contains("user=alice");
  }

  /** A keytab that cannot serve stops the node at start-up, naming the key, rather than refusing the first client. */
  @Test
  void aKeytabThatCannotServeStopsStartUp() throws Exception {
    assertThatThrownBy(() -> start(config(kdc.dir().resolve("no-such.keytab"))))
        .isInstanceOf(dev.vxsocks.config.ConfigException.class)
        .hasMessageContaining("auth.gssapi.keytab: cannot read").hasMessageContaining("(no such file)");
    JsonObject wrongPrincipal = config(kdc.otherServiceKeytab());
    assertThatThrownBy(() -> start(wrongPrincipal))
        .isInstanceOf(dev.vxsocks.config.ConfigException.class)
        .hasMessageContaining("holds no key for rcmd/localhost@VXSOCKS.TEST");
  }

  /** A keytab replaced on disk (key rotation) is used from the next login on, without a restart. */
  @Test
  void aRotatedKeytabIsReadAgain() throws Exception {
    String service = "rcmd/rotating@" + TestKdc.REALM;
    Path keytab = kdc.dir().resolve("rotating.keytab");
    java.nio.file.Files.copy(kdc.newServiceKey(service), keytab, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    JsonObject c = config(keytab);
    c.getJsonObject("auth").getJsonObject("gssapi").put("principal", service);
    int port = start(c);
    try (GssSocksClient client = new GssSocksClient(port, kdc.login("alice"))) {
      assertThat(client.greet()).isEqualTo(1);
      client.establish(service);
      assertThat(client.negotiate(0, false)).isZero();
    }
    Path rotated = kdc.newServiceKey(service);
    Thread.sleep(1100); // a new modification time, at the file system's one-second resolution at worst
    java.nio.file.Files.copy(rotated, keytab, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    try (GssSocksClient client = new GssSocksClient(port, kdc.login("alice"))) {
      assertThat(client.greet()).isEqualTo(1);
      client.establish(service);
      assertThat(client.negotiate(0, false)).isZero();
    }
  }
}
