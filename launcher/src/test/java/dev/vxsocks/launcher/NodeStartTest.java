package dev.vxsocks.launcher;

import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.SharedTargets;
import dev.vxsocks.testing.TestProxy;
import dev.vxsocks.testing.Transports;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.SharedTargets.http;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code Node.start} itself: port 0 with several connection verticles, and one node per Vert.x instance. */
@ExtendWith({VertxExtension.class, SharedTargets.class})
class NodeStartTest {

  /** Port 0 and four connection verticles (Main's count on two cores): one port, and curl gets through. */
  @ParameterizedTest(name = "port 0 with 4 instances on {0}")
  @ValueSource(strings = {"nio", "native"})
  void portZeroWithSeveralInstances(String transport) throws Exception {
    Vertx vertx = Transports.vertx(transport);
    try {
      Node node = Node.start(vertx, ProxyConfig.fromJson(TestProxy.config("none")), 4).await(20, TimeUnit.SECONDS);
      assertThat(node.port()).isPositive();
      for (int i = 0; i < 4; i++) {
        List<String> cmd = CurlClientTest.curl("--socks5", "127.0.0.1:" + node.port());
        cmd.add("http://127.0.0.1:" + http().port() + "/hello");
        Clients.Result r = Clients.run(cmd, new byte[0]);
        assertThat(r.exit()).as(r.describe()).isZero();
      }
    } finally {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }

  /**
   * Two nodes on one Vert.x instance: node B knows only "bob", node A only "alice". Either the second
   * {@code Node.start} fails, or B must answer bob's logins itself every time. Today neither holds: both auth
   * verticles consume the same local addresses (AuthAddresses), Vert.x round-robins B's questions between them,
   * and every other login of bob to B reaches A's auth verticle and is refused as an unknown user.
   */
  @Test
  void twoNodesOnOneVertxDoNotAnswerForEachOther(Vertx vertx) throws Exception {
    Node a = Node.start(vertx, ProxyConfig.fromJson(TestProxy.config("username-password")), 1).await(20, TimeUnit.SECONDS);
    JsonObject bConfig = TestProxy.config("username-password");
    bConfig.put("users", new JsonArray().add(new JsonObject().put("name", "bob")
        .put("password", PasswordHash.create("bobs-password".toCharArray(), 1000).encoded())));
    Node b;
    try {
      b = Node.start(vertx, ProxyConfig.fromJson(bConfig), 1).await(20, TimeUnit.SECONDS);
    } catch (Exception refused) {
      return; // refusing a second node on the same Vert.x is a fine answer
    }
    assertThat(a.port()).isNotEqualTo(b.port());
    try (LogCapture log = new LogCapture()) {
      for (int i = 0; i < 4; i++) {
        List<String> cmd = CurlClientTest.curl("--socks5", "127.0.0.1:" + b.port());
        cmd.addAll(List.of("--proxy-user", "bob:bobs-password", "http://127.0.0.1:" + http().port() + "/hello"));
        Clients.Result r = Clients.run(cmd, new byte[0]);
        assertThat(r.exit()).as("login " + (i + 1) + " of bob to node B\n" + r.describe() + "\nproxy log:\n" + log.text())
            .isZero();
      }
    }
  }
}
