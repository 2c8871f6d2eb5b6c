package dev.vxsocks.launcher;

import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.vxsocks.testing.SharedTargets.http;
import static dev.vxsocks.testing.TestProxy.PASSWORD;
import static dev.vxsocks.testing.TestProxy.USER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * curl through the proxy, with local ({@code --socks5}) and proxy-side ({@code --socks5-hostname}) name resolution,
 * to an HTTP server on 127.0.0.1, [::1] and {@code localhost}. Failure cases rely on curl 7.73 or later, which exits
 * with 97 (CURLE_PROXY) for every SOCKS failure and puts the reply code in brackets: "... connection to X. (5)".
 */
class CurlClientTest extends TwoNodeClientTest {

  static Stream<Arguments> successfulFetches() {
    List<Arguments> cases = new ArrayList<>();
    for (String mode : List.of("--socks5", "--socks5-hostname")) {
      for (String host : List.of("127.0.0.1", "[::1]", "localhost")) {
        cases.add(Arguments.of(mode, host, false));
        cases.add(Arguments.of(mode, host, true));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "curl {0} http://{1}/, credentials: {2}")
  @MethodSource("successfulFetches")
  void fetchesThroughTheProxy(String mode, String host, boolean credentials) {
    Node node = credentials ? withPassword : open;
    long before = node.server().stats().totalSessions();
    List<String> cmd = curl(mode, "127.0.0.1:" + node.port());
    if (credentials) {
      cmd.addAll(List.of("--proxy-user", USER + ":" + PASSWORD));
    }
    cmd.add("http://" + host + ":" + http().port() + "/hello");

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    String expectedVia = host.equals("127.0.0.1") ? "127.0.0.1" : host.equals("[::1]") ? LoopbackTargets.IPV6_TEXT : null;
    if (expectedVia != null) {
      assertThat(r.out()).as(r.describe()).isEqualTo("hello via " + expectedVia + "\n");
    } else {
      assertThat(r.out()).as(r.describe()).isIn("hello via 127.0.0.1\n", "hello via " + LoopbackTargets.IPV6_TEXT + "\n");
    }
    assertThat(node.server().stats().totalSessions()).as("curl went through the proxy, not around it\n" + r.describe())
        .isGreaterThan(before);
  }

  @ParameterizedTest(name = "curl {0} to a closed port on {1} reports SOCKS reply 5")
  @CsvSource({"--socks5, 127.0.0.1", "--socks5, [::1]", "--socks5, localhost",
      "--socks5-hostname, 127.0.0.1", "--socks5-hostname, [::1]", "--socks5-hostname, localhost"})
  void refusedPortIsReplyFive(String mode, String host) throws Exception {
    int closed = LoopbackTargets.closedPort();
    List<String> cmd = curl(mode, "127.0.0.1:" + open.port());
    cmd.add("http://" + host + ":" + closed + "/");

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as("CURLE_PROXY\n" + r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(97);
    assertThat(r.stderr()).as(r.describe()).contains("(5)");
  }

  @Test
  void wrongPasswordIsRejected() {
    List<String> cmd = curl("--socks5-hostname", "127.0.0.1:" + withPassword.port());
    cmd.addAll(List.of("--proxy-user", USER + ":not-" + PASSWORD, "http://localhost:" + http().port() + "/hello"));

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(97);
    assertThat(r.stderr()).as(r.describe()).contains("rejected");
    assertThat(r.stdout()).as(r.describe()).isEmpty();
  }

  @Test
  void unknownUserIsRejected() {
    List<String> cmd = curl("--socks5", "127.0.0.1:" + withPassword.port());
    cmd.addAll(List.of("--proxy-user", "mallory:" + PASSWORD, "http://127.0.0.1:" + http().port() + "/hello"));

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(97);
    assertThat(r.stderr()).as(r.describe()).contains("rejected");
  }

  @Test
  void noCredentialsForAPasswordOnlyProxy() {
    List<String> cmd = curl("--socks5", "127.0.0.1:" + withPassword.port());
    cmd.add("http://127.0.0.1:" + http().port() + "/hello");

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(97);
    assertThat(r.stderr()).as(r.describe()).contains("No authentication method was acceptable");
  }

  @ParameterizedTest(name = "curl {0} to the proxy's own port is reply 2")
  @CsvSource({"--socks5, 127.0.0.1", "--socks5-hostname, localhost"})
  void theProxysOwnPortIsNotAllowed(String mode, String host) {
    List<String> cmd = curl(mode, "127.0.0.1:" + open.port());
    cmd.add("http://" + host + ":" + open.port() + "/");

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(97);
    assertThat(r.stderr()).as(r.describe()).contains("(2)");
  }

  @Test
  void proxyListeningOnIpv6Loopback() throws Exception {
    JsonObject cfg = TestProxy.config("username-password");
    cfg.getJsonObject("listen").put("host", "::1");
    Node v6 = ProxyFixture.start(own(Vertx.vertx()), cfg).await(20, TimeUnit.SECONDS);
    List<String> cmd = curl("--socks5-hostname", "[::1]:" + v6.port());
    cmd.addAll(List.of("--proxy-user", USER + ":" + PASSWORD, "http://127.0.0.1:" + http().port() + "/hello"));

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.out()).isEqualTo("hello via 127.0.0.1\n");
  }

  /**
   * RFC 1929 allows 255 bytes for each of ULEN and PLEN: the longest name and password work; a disabled user is
   * refused even with the right password.
   */
  @Test
  void longestCredentialsWorkAndADisabledUserIsRefused() throws Exception {
    String longUser = "u".repeat(255);
    String longPassword = "p".repeat(255);
    JsonObject cfg = TestProxy.config("username-password");
    cfg.getJsonArray("users")
        .add(new JsonObject().put("name", longUser)
            .put("password", dev.vxsocks.config.PasswordHash.create(longPassword.toCharArray(), 1000).encoded()))
        .add(new JsonObject().put("name", "bob").put("password", TestProxy.PASSWORD_HASH).put("enabled", false));
    Node node = ProxyFixture.start(own(Vertx.vertx()), cfg).await(20, TimeUnit.SECONDS);

    List<String> longest = curl("--socks5-hostname", "127.0.0.1:" + node.port());
    longest.addAll(List.of("--proxy-user", longUser + ":" + longPassword, "http://localhost:" + http().port() + "/hello"));
    Clients.Result ok = Clients.run(longest, new byte[0]);
    assertThat(ok.exit()).as(ok.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(ok.out()).isEqualTo("hello via 127.0.0.1\n");

    List<String> disabled = curl("--socks5-hostname", "127.0.0.1:" + node.port());
    disabled.addAll(List.of("--proxy-user", "bob:" + PASSWORD, "http://localhost:" + http().port() + "/hello"));
    Clients.Result refused = Clients.run(disabled, new byte[0]);
    assertThat(refused.exit()).as(refused.describe() + "\nproxy log:\n" + log.text()).isEqualTo(97);
    assertThat(refused.stderr()).as(refused.describe()).contains("rejected");
  }

  /** curl without any rc file ({@code -q} must come first), quiet but for errors, bounded in time. */
  static List<String> curl(String mode, String proxy) {
    return new ArrayList<>(List.of(Clients.curl(), "-q", "--silent", "--show-error", "--connect-timeout", "10",
        "--max-time", "15", mode, proxy));
  }

}
