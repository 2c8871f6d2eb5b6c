package dev.vxsocks.launcher;

import dev.vxsocks.testing.GssSocksClient;
import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.SharedTargets;
import dev.vxsocks.testing.TestKdc;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.SharedTargets.http;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A curl that can finish a SOCKS5 GSS-API handshake (8.17 or newer, built from Debian's source package by
 * {@code scripts/gss-curl.sh}, which {@code scripts/test.sh} runs: Debian 12's own curl cannot, see
 * {@link CurlGssapiTest}) fetches a page through a node offering GSS-API only, after {@code kinit alice} at the test
 * realm, the way a client is set up for a real proxy: {@code --proxy socks5h://localhost:PORT --socks5-gssapi}, with
 * and without {@code --socks5-gssapi-nec}. curl then asks for the host-based service {@code rcmd@localhost}, the
 * node's {@code rcmd/localhost} (for {@code proxy.example.com}, {@code rcmd/proxy.example.com}). This curl cannot be
 * given another service name with {@code --socks5-gssapi} alone: it still accepts {@code --socks5-gssapi-service}
 * and ignores it, and drops {@code --proxy-service-name} unless {@code --socks5-basic} is also on.
 * The principal becomes the session's user: the log line names it, a rule for it applies, a per-user limit counts it.
 *
 * <p>{@code scripts/test.sh} sets {@code GSSAPI_CURL}; then a missing binary fails the test. Run outside it
 * ({@code mvn verify} alone), the test looks for {@code .work/gss-curl/bin/curl} and is skipped, saying so, without it.
 */
@ExtendWith(SharedTargets.class)
class CurlGssapiFetchTest {

  private static TestKdc kdc;
  private static Path aliceCache;
  private static String curl;
  private final List<Vertx> vertxes = new ArrayList<>();
  private LogCapture log;

  @BeforeAll
  static void realm() {
    String required = System.getenv("GSSAPI_CURL");
    Path binary = required != null ? Path.of(required) : Path.of("..", ".work", "gss-curl", "bin", "curl");
    if (required != null) {
      assertThat(binary).as("GSSAPI_CURL (scripts/gss-curl.sh's build; its log is beside bin/)").isExecutable();
    }
    assumeTrue(Files.isExecutable(binary), "no GSS-API-capable curl at " + binary.toAbsolutePath()
        + ": run scripts/test.sh (it builds one with scripts/gss-curl.sh)");
    curl = binary.toAbsolutePath().toString();
    kdc = TestKdc.get();
    aliceCache = kdc.kinit("alice");
  }

  @BeforeEach
  void capture() {
    log = new LogCapture();
  }

  @AfterEach
  void stop() throws Exception {
    log.close();
    for (Vertx v : vertxes) {
      v.close().await(20, TimeUnit.SECONDS);
    }
  }

  private static JsonObject config() {
    JsonObject c = TestProxy.config("gssapi");
    c.getJsonObject("auth").put("gssapi", new JsonObject().put("keytab", kdc.serviceKeytab().toString())
        .put("principal", TestKdc.SERVICE)
        // curl asks for confidentiality when the context offers it, but can do no level: granted it, it closes.
        .put("protection", new JsonArray().add("none")));
    return c;
  }

  private Node start(JsonObject c) throws Exception {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    return ProxyFixture.start(vertx, c).await(20, TimeUnit.SECONDS);
  }

  /** The built curl with the realm's krb5.conf and alice's ticket cache, through the node on {@code port}. */
  private static Clients.Result fetch(int port, boolean nec) {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/env"));
    for (Map.Entry<String, String> e : kdc.clientEnv(aliceCache).entrySet()) {
      cmd.add(e.getKey() + "=" + e.getValue());
    }
    cmd.addAll(List.of(curl, "-q", "--silent", "--show-error", "--connect-timeout", "10", "--max-time", "20",
        "--proxy", "socks5h://localhost:" + port, "--socks5-gssapi"));
    if (nec) {
      cmd.add("--socks5-gssapi-nec");
    }
    cmd.add("http://localhost:" + http().port() + "/hello");
    return Clients.run(cmd, new byte[0]);
  }

  @ParameterizedTest(name = "NEC: {0}")
  @ValueSource(booleans = {false, true})
  void curlFetchesAPageAsTheMappedUser(boolean nec) throws Exception {
    Node node = start(config());
    Clients.Result r = fetch(node.port(), nec);
    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.out()).isIn("hello via 127.0.0.1\n", "hello via 0:0:0:0:0:0:0:1\n");
    assertThat(log.await("cmd=connect", 10_000)).contains("user=alice ")
        .contains("principal=alice@VXSOCKS.TEST protection=none").contains("reply=succeeded")
        .contains("close=\"completed\"");
    assertThat(log.text()).contains("gssapi: authenticated alice@VXSOCKS.TEST as alice (listed)")
        .containsPattern("gssapi: client asked for protection \\w+" + (nec ? " \\(NEC style, unwrapped\\)" : "")
            + ", granted none");
  }

  @Test
  void aRuleForTheMappedUserAppliesToCurl() throws Exception {
    JsonObject c = config();
    c.getJsonObject("rules").getJsonArray("request").add(0, new JsonObject().put("action", "deny")
        .put("users", new JsonArray().add("alice")).put("ports", new JsonArray().add(String.valueOf(http().port()))));
    Node node = start(c);
    Clients.Result r = fetch(node.port(), false);
    assertThat(r.exit()).as(r.describe()).isNotZero();
    assertThat(r.out()).isEmpty();
    assertThat(log.await("close=", 10_000)).contains("user=alice ").contains("reply=not-allowed")
        .contains("denied: rules.request[0]");
  }

  /** With one session per user, alice's Kerberos session held by another client makes curl's wait; then it passes. */
  @Test
  void aPerUserLimitCountsCurlsSession() throws Exception {
    JsonObject c = config();
    c.put("limits", new JsonObject().put("sessions-per-user", 1));
    Node node = start(c);
    try (GssSocksClient held = new GssSocksClient(node.port(), kdc.login("alice"))) {
      assertThat(held.greet()).isEqualTo(1);
      held.establish(TestKdc.SERVICE);
      assertThat(held.negotiate(0, false)).isZero();
      held.write(RawClient.connectIpv4(127, 0, 0, 1, SharedTargets.echo().port()));
      assertThat(held.readReply()[1]).isZero();

      Clients.Result refused = fetch(node.port(), false);
      assertThat(refused.exit()).as(refused.describe()).isNotZero();
      assertThat(log.await("sessions-per-user limit 1 reached for alice", 10_000)).contains("user=alice ");
    }
    // The held session's slot comes back when it closes.
    Clients.Result r = null;
    for (int i = 0; i < 50; i++) {
      r = fetch(node.port(), false);
      if (r.exit() == 0) {
        break;
      }
      Thread.sleep(100);
    }
    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out()).startsWith("hello via ");
  }
}
