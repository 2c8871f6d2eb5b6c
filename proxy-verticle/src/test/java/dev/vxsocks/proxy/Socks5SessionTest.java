package dev.vxsocks.proxy;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static dev.vxsocks.testing.Bytes.bytes;
import static dev.vxsocks.testing.Bytes.concat;
import static dev.vxsocks.testing.RawClient.connectDomain;
import static dev.vxsocks.testing.RawClient.connectIpv4;
import static dev.vxsocks.testing.RawClient.passwordRequest;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sessions over real loopback sockets with exact reply bytes: the happy paths for every address type, and every
 * kind of bad input, each followed by a check that the node still serves a normal session.
 */
class Socks5SessionTest {

  private static final byte[] NO_AUTH = bytes(5, 1, 0);
  private static final byte[] CHOSE_NO_AUTH = bytes(5, 0);

  static TestProxy open;
  static TestProxy withAuth;
  static TcpTarget echo;
  static TcpTarget echo6;

  @BeforeAll
  static void start() throws Exception {
    open = TestProxy.start(TestProxy.baseConfig());
    JsonObject auth = TestProxy.baseConfig();
    auth.getJsonObject("auth").put("methods", new JsonArray().add("username-password"));
    auth.put("limits", new JsonObject().put("sessions-per-user", 2));
    withAuth = TestProxy.start(auth);
    echo = TcpTarget.echo("127.0.0.1");
    echo6 = TcpTarget.echo("::1");
  }

  @AfterAll
  static void stop() throws Exception {
    open.close();
    withAuth.close();
    echo.close();
    echo6.close();
  }

  @AfterEach
  void nodeStillServes() throws IOException {
    assertEchoSession(open.port());
  }

  static void assertEchoSession(int proxyPort) throws IOException {
    try (RawClient c = new RawClient(proxyPort)) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(connectIpv4(127, 0, 0, 1, echo.port()));
      byte[] reply = c.readReply();
      assertThat(reply[1]).as("REP").isEqualTo((byte) 0);
      c.send("ping".getBytes()).expect("ping".getBytes());
    }
  }

  @Test
  void connectIpv4RepliesWithTheOutboundSocketsRealAddress() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(connectIpv4(127, 0, 0, 1, echo.port()));
      byte[] reply = c.readReply();
      assertThat(java.util.Arrays.copyOf(reply, 8)).containsExactly(5, 0, 0, 1, 127, 0, 0, 1);
      int bndPort = ((reply[8] & 0xff) << 8) | (reply[9] & 0xff);
      assertThat(bndPort).isPositive().isNotEqualTo(echo.port()).isNotEqualTo(open.port());
      c.send("hello".getBytes()).expect("hello".getBytes());
    }
  }

  @Test
  void connectIpv6() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      byte[] loop6 = new byte[16];
      loop6[15] = 1;
      c.send(concat(bytes(5, 1, 0, 4), loop6, bytes(echo6.port() >> 8, echo6.port() & 0xff)));
      byte[] reply = c.readReply();
      assertThat(java.util.Arrays.copyOf(reply, 4)).containsExactly(5, 0, 0, 4);
      assertThat(java.util.Arrays.copyOfRange(reply, 4, 20)).isEqualTo(loop6);
      c.send("six".getBytes()).expect("six".getBytes());
    }
  }

  @Test
  void connectDomainLocalhost() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(connectDomain("localhost", echo.port()));
      assertThat(c.readReply()[1]).isEqualTo((byte) 0);
      c.send("name".getBytes()).expect("name".getBytes());
    }
  }

  @Test
  void usernamePasswordSuccess() throws IOException {
    try (RawClient c = new RawClient(withAuth.port())) {
      c.send(bytes(5, 2, 0, 2)).expect(bytes(5, 2));
      c.send(passwordRequest(TestProxy.USER, TestProxy.PASSWORD)).expect(bytes(1, 0));
      c.send(connectIpv4(127, 0, 0, 1, echo.port()));
      assertThat(c.readReply()[1]).isEqualTo((byte) 0);
      c.send("authed".getBytes()).expect("authed".getBytes());
    }
  }

  @Test
  void wrongPasswordUnknownUserAndDisabledUserGetStatusFailureThenClose() throws IOException {
    for (byte[] request : new byte[][] {
        passwordRequest(TestProxy.USER, "wrong"), passwordRequest("mallory", "whatever"), passwordRequest("bob", TestProxy.PASSWORD)}) {
      try (RawClient c = new RawClient(withAuth.port())) {
        c.send(bytes(5, 1, 2)).expect(bytes(5, 2));
        c.send(request).expect(bytes(1, 1));
        c.expectClosed();
      }
    }
  }

  @Test
  void zeroLengthUsernameOrPasswordIsRefusedPolitely() throws IOException {
    for (byte[] request : new byte[][] {bytes(1, 0, 3, 'a', 'b', 'c'), bytes(1, 3, 'a', 'b', 'c', 0), bytes(1, 0, 0)}) {
      try (RawClient c = new RawClient(withAuth.port())) {
        c.send(bytes(5, 1, 2)).expect(bytes(5, 2));
        c.send(request).expect(bytes(1, 1));
        c.expectClosed();
      }
    }
  }

  @Test
  void badAuthVersionGetsStatusFailure() throws IOException {
    try (RawClient c = new RawClient(withAuth.port())) {
      c.send(bytes(5, 1, 2)).expect(bytes(5, 2));
      c.send(bytes(5, 1, 'a', 1, 'b')).expect(bytes(1, 1));
      c.expectClosed();
    }
  }

  @Test
  void credentialsThatAreNotUtf8AreRefusedWithoutReachingTheLogs() throws Exception {
    // The user's real password with its last byte made 0xFF: read leniently it would have become "...\uFFFD".
    byte[] password = TestProxy.PASSWORD.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    password[password.length - 1] = (byte) 0xFF;
    byte[] user = TestProxy.USER.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] request = concat(bytes(1, user.length), user, bytes(password.length), password);
    try (LogCapture logs = new LogCapture("", java.util.logging.Level.ALL)) {
      try (RawClient c = new RawClient(withAuth.port())) {
        c.send(bytes(5, 1, 2)).expect(bytes(5, 2));
        c.send(request).expect(bytes(1, 1));
        c.expectClosed();
      }
      logs.await("auth failed: password is not well-formed UTF-8", 10_000);
      assertThat(logs.lines()).noneMatch(l -> l.contains(TestProxy.PASSWORD.substring(0, TestProxy.PASSWORD.length() - 1)));
    }
  }

  @Test
  void sessionLimitPerUserRepliesNotAllowed() throws IOException {
    try (RawClient a = authed(); RawClient b = authed(); RawClient c = new RawClient(withAuth.port())) {
      c.send(bytes(5, 1, 2)).expect(bytes(5, 2));
      c.send(passwordRequest(TestProxy.USER, TestProxy.PASSWORD)).expect(bytes(1, 0));
      c.send(connectIpv4(127, 0, 0, 1, echo.port()));
      assertThat(c.readReply()[1]).as("third session over a limit of 2").isEqualTo((byte) 2);
      c.expectClosed();
    }
    // Both slots were given back when the sessions closed.
    try (RawClient again = authed()) {
      again.send("x".getBytes()).expect("x".getBytes());
    }
  }

  private RawClient authed() throws IOException {
    RawClient c = new RawClient(withAuth.port());
    c.send(concat(bytes(5, 1, 2), passwordRequest(TestProxy.USER, TestProxy.PASSWORD), connectIpv4(127, 0, 0, 1, echo.port())));
    c.expect(bytes(5, 2, 1, 0));
    assertThat(c.readReply()[1]).isEqualTo((byte) 0);
    return c;
  }

  @Test
  void noAuthOfferedToAnAuthOnlyServerGets05FF() throws IOException {
    try (RawClient c = new RawClient(withAuth.port())) {
      c.send(NO_AUTH).expect(bytes(5, 0xff));
      c.expectClosed();
    }
  }

  @Test
  void zeroMethodsGets05FF() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(bytes(5, 0)).expect(bytes(5, 0xff));
      c.expectClosed();
    }
  }

  @Test
  void wrongVersionIsClosedWithoutAReply() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(bytes(4, 1, 0, 80, 127, 0, 0, 1, 0));
      c.expectClosed();
    }
  }

  @Test
  void unknownCommandGets07() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(bytes(5, 9, 0, 1, 127, 0, 0, 1, 0, 80));
      c.expect(bytes(5, 7, 0, 1, 0, 0, 0, 0, 0, 0));
      c.expectClosed();
    }
  }

  @Test
  void passwordsNeverReachTheLogs() throws Exception {
    String wrong = "Wr0ng-Pa55-marker";
    try (LogCapture logs = new LogCapture("", java.util.logging.Level.ALL)) {
      try (RawClient c = new RawClient(withAuth.port())) {
        c.send(bytes(5, 1, 2)).expect(bytes(5, 2));
        c.send(passwordRequest(TestProxy.USER, wrong)).expect(bytes(1, 1));
        c.expectClosed();
      }
      try (RawClient c = authed()) {
        c.send("x".getBytes()).expect("x".getBytes());
      }
      logs.await("auth failed: bad-credentials", 5000);
      logs.await("user=alice cmd=connect", 5000);
      assertThat(logs.lines()).isNotEmpty().noneMatch(l -> l.contains(wrong) || l.contains(TestProxy.PASSWORD));
    }
  }

  @Test
  void unknownAddressTypeGets08() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(bytes(5, 1, 0, 2, 127, 0, 0, 1, 0, 80));
      c.expect(bytes(5, 8, 0, 1, 0, 0, 0, 0, 0, 0));
      c.expectClosed();
    }
  }

  @Test
  void emptyDomainGets04() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(bytes(5, 1, 0, 3, 0, 0, 80));
      c.expect(bytes(5, 4, 0, 1, 0, 0, 0, 0, 0, 0));
      c.expectClosed();
    }
  }

  @Test
  void nonZeroRsvIsIgnored() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(bytes(5, 1, 0x7f, 1, 127, 0, 0, 1, echo.port() >> 8, echo.port() & 0xff));
      assertThat(c.readReply()[1]).isEqualTo((byte) 0);
      c.send("rsv".getBytes()).expect("rsv".getBytes());
    }
  }

  @Test
  void refusedPortGets05() throws IOException {
    int closedPort = LoopbackTargets.closedPort();
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(connectIpv4(127, 0, 0, 1, closedPort));
      c.expect(bytes(5, 5, 0, 1, 0, 0, 0, 0, 0, 0));
      c.expectClosed();
    }
  }

  @Test
  void ruleDenialGets02() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(connectIpv4(127, 0, 0, 66, echo.port()));
      c.expect(bytes(5, 2, 0, 1, 0, 0, 0, 0, 0, 0));
      c.expectClosed();
    }
  }

  @Test
  void loopbackAndLinkLocalNotNamedByARuleAreDenied() throws IOException {
    // 127.0.0.5 and 169.254.169.254 (cloud metadata) only match the catch-all rule, which does not name them.
    for (byte[] request : new byte[][] {connectIpv4(127, 0, 0, 5, echo.port()), connectIpv4(169, 254, 169, 254, 80),
        connectIpv4(0, 0, 0, 0, echo.port())}) {
      try (RawClient c = new RawClient(open.port())) {
        c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
        c.send(request);
        c.expect(bytes(5, 2, 0, 1, 0, 0, 0, 0, 0, 0));
        c.expectClosed();
      }
    }
  }

  @Test
  void theProxysOwnPortIsDenied() throws IOException {
    try (RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(connectIpv4(127, 0, 0, 1, open.port()));
      c.expect(bytes(5, 2, 0, 1, 0, 0, 0, 0, 0, 0));
      c.expectClosed();
    }
  }

  @Test
  void truncatedMessagesThenFinAreClosed() throws IOException {
    byte[][] truncated = {bytes(5, 2, 0), concat(NO_AUTH, bytes(5, 1, 0, 1, 127, 0))};
    for (byte[] t : truncated) {
      try (RawClient c = new RawClient(open.port())) {
        c.send(t);
        c.socket.shutdownOutput();
        byte[] rest = c.readAll();
        assertThat(rest.length).as("at most the method selection").isLessThanOrEqualTo(2);
      }
    }
    try (RawClient c = new RawClient(withAuth.port())) {
      c.send(concat(bytes(5, 1, 2), bytes(1, 5, 'a', 'l')));
      c.socket.shutdownOutput();
      assertThat(c.readAll()).containsExactly(5, 2);
    }
  }

  @Test
  void pipelinedHandshakeAndPayloadInOneWriteLoseNothing() throws Exception {
    byte[] payload = new byte[200_000];
    new Random(1).nextBytes(payload);
    try (TcpTarget digest = TcpTarget.answerDigest("127.0.0.1"); RawClient c = new RawClient(withAuth.port())) {
      c.send(concat(bytes(5, 1, 2), passwordRequest(TestProxy.USER, TestProxy.PASSWORD),
          connectIpv4(127, 0, 0, 1, digest.port()), payload));
      c.socket.shutdownOutput();
      c.expect(bytes(5, 2, 1, 0));
      assertThat(c.readReply()[1]).isEqualTo((byte) 0);
      assertThat(new String(c.readAll(), StandardCharsets.US_ASCII)).isEqualTo(LoopbackTargets.sha256Hex(payload));
    }
  }

  @Test
  void oneByteFragmentsLoseNothing() throws Exception {
    byte[] payload = new byte[3000];
    new Random(2).nextBytes(payload);
    byte[] all = concat(bytes(5, 1, 2), passwordRequest(TestProxy.USER, TestProxy.PASSWORD),
        connectDomain("localhost", 0), payload);
    try (TcpTarget digest = TcpTarget.answerDigest("127.0.0.1"); RawClient c = new RawClient(withAuth.port())) {
      byte[] request = connectDomain("localhost", digest.port());
      System.arraycopy(request, 0, all, 3 + passwordRequest(TestProxy.USER, TestProxy.PASSWORD).length, request.length);
      for (byte b : all) {
        c.send(new byte[] {b});
      }
      c.socket.shutdownOutput();
      c.expect(bytes(5, 2, 1, 0));
      assertThat(c.readReply()[1]).isEqualTo((byte) 0);
      assertThat(new String(c.readAll(), StandardCharsets.US_ASCII)).isEqualTo(LoopbackTargets.sha256Hex(payload));
    }
  }

  @Test
  void halfCloseDeliversTheWholeAnswer() throws Exception {
    byte[] big = new byte[4 << 20];
    new Random(3).nextBytes(big);
    try (TcpTarget t = TcpTarget.answerAfterEof("127.0.0.1", (received, sha) -> big); RawClient c = new RawClient(open.port())) {
      c.send(NO_AUTH).expect(CHOSE_NO_AUTH);
      c.send(connectIpv4(127, 0, 0, 1, t.port()));
      assertThat(c.readReply()[1]).isEqualTo((byte) 0);
      c.send("GET everything\n".getBytes());
      c.socket.shutdownOutput();
      byte[] got = c.readAll();
      assertThat(got.length).isEqualTo(big.length);
      assertThat(LoopbackTargets.sha256Hex(got)).isEqualTo(LoopbackTargets.sha256Hex(big));
    }
  }

  @Test
  void aGreetingAtOneBytePerSecondIsClosedAtTheDeadline() throws Exception {
    try (RawClient c = new RawClient(open.port())) {
      long start = System.nanoTime();
      boolean closed = false;
      for (int i = 0; i < 10 && !closed; i++) {
        try {
          c.send(bytes(5));
          Thread.sleep(1000);
        } catch (IOException e) {
          closed = true;
        }
      }
      if (!closed) {
        c.expectClosed();
      }
      long seconds = (System.nanoTime() - start) / 1_000_000_000L;
      assertThat(seconds).as("closed by the 2 s handshake deadline, well before the 10 s the client would take").isLessThan(8);
    }
  }

  @Test
  void randomGarbageIsClosed() throws IOException {
    Random random = new Random(4);
    for (int i = 0; i < 50; i++) {
      byte[] junk = new byte[1 + random.nextInt(300)];
      random.nextBytes(junk);
      try (RawClient c = new RawClient(open.port())) {
        try {
          c.send(junk);
          c.socket.shutdownOutput();
          c.readAll();
        } catch (IOException resetIsFine) {
          // the proxy may close while we still write
        }
      }
    }
  }
}
