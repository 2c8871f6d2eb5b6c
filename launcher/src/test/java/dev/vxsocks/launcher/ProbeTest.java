package dev.vxsocks.launcher;

import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.LoopbackTargets.UdpEcho;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code vxsocks probe} through a node: every phase printed, exit 0 on success, the refusal named otherwise. */
class ProbeTest {

  private static final InputStream REAL_STDIN = System.in;
  private static Vertx vertx;
  private static Node node;
  private static TcpTarget echo;
  private static UdpEcho udpEcho;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    JsonObject config = TestProxy.config("username-password");
    // Everything on loopback allowed but 127.0.0.66.
    config.getJsonObject("rules").put("request", new JsonArray()
        .add(new JsonObject().put("action", "deny").put("to", new JsonArray().add("127.0.0.66")))
        .add(new JsonObject().put("action", "allow").put("to", new JsonArray().add("127.0.0.0/8")))
        // The association itself has no destination; each datagram's is checked against the rules above.
        .add(new JsonObject().put("action", "allow").put("commands", new JsonArray().add("udp-associate"))));
    node = ProxyFixture.start(vertx, config).await(20, TimeUnit.SECONDS);
    echo = TcpTarget.echo("127.0.0.1");
    udpEcho = UdpEcho.start("127.0.0.1");
  }

  @AfterAll
  static void stop() throws Exception {
    echo.close();
    udpEcho.close();
    vertx.close().await(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void restoreStdin() {
    System.setIn(REAL_STDIN);
  }

  private static MainCommandTest.Run probe(String password, String... args) {
    System.setIn(new ByteArrayInputStream((password + "\n").getBytes(StandardCharsets.UTF_8)));
    String[] all = new String[args.length + 5];
    all[0] = "probe";
    all[1] = "--proxy";
    all[2] = "127.0.0.1:" + node.port();
    all[3] = "--user";
    all[4] = TestProxy.USER;
    System.arraycopy(args, 0, all, 5, args.length);
    return MainCommandTest.main(all);
  }

  @Test
  void aSessionThatGetsThroughPrintsEachPhaseAndExitsZero() {
    MainCommandTest.Run r = probe(TestProxy.PASSWORD, "--target", "127.0.0.1:" + echo.port(), "--send", "hi");
    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out()).contains("method    0x02 username/password", "auth      accepted", "reply     0x00 succeeded",
        "first     byte 0x68", "result    OK");
  }

  @Test
  void udpThroughTheRelay() {
    MainCommandTest.Run r = probe(TestProxy.PASSWORD, "--udp", "--target", "127.0.0.1:" + udpEcho.port());
    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out()).contains("reply     0x00 succeeded", "first     datagram of", "result    OK");
  }

  @Test
  void aWrongPasswordIsNamedAndExitsNonZero() {
    MainCommandTest.Run r = probe("wrong", "--target", "127.0.0.1:" + echo.port());
    assertThat(r.exit()).as(r.describe()).isEqualTo(1);
    assertThat(r.out()).contains("auth      REFUSED (status 1)", "FAILED: authentication refused");
  }

  @Test
  void aDeniedDestinationPrintsTheReplyByItsRfcName() throws Exception {
    MainCommandTest.Run r = probe(TestProxy.PASSWORD, "--target", "127.0.0.66:80");
    assertThat(r.exit()).as(r.describe()).isEqualTo(1);
    assertThat(r.out()).contains("reply     0x02 connection not allowed by ruleset", "FAILED");
    MainCommandTest.Run refused = probe(TestProxy.PASSWORD, "--target", "127.0.0.1:" + LoopbackTargets.closedPort());
    assertThat(refused.out()).contains("reply     0x05 connection refused");
  }

  @Test
  void aBadCommandLineIsExitCodeTwo() {
    MainCommandTest.Run r = MainCommandTest.main("probe", "--proxy", "127.0.0.1");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--proxy takes HOST:PORT");
  }
}
