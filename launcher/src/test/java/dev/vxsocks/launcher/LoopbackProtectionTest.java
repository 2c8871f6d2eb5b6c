package dev.vxsocks.launcher;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.SharedTargets;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static dev.vxsocks.testing.SharedTargets.http;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * README, "Rules" (safe default): with rules that allow "everything" ({@code 0.0.0.0/0}, {@code ::/0}, {@code *}) but name no loopback
 * block, curl must not reach a service on this machine, whatever spelling of loopback it uses. Every case is reply 2.
 * The HTTP target is up on 127.0.0.1 and [::1], so a case that got through would fetch a page.
 */
@ExtendWith({VertxExtension.class, SharedTargets.class})
class LoopbackProtectionTest {

  private Node node;
  private LogCapture log;

  @BeforeEach
  void startProxy(Vertx vertx, VertxTestContext ctx) {
    log = new LogCapture();
    JsonObject cfg = TestProxy.config("none");
    cfg.getJsonObject("rules").put("request", new JsonArray().add(new JsonObject().put("action", "allow")
        .put("to", new JsonArray().add("0.0.0.0/0").add("::/0").add("*"))));
    ProxyFixture.start(vertx, cfg).onComplete(ctx.succeeding(n -> {
      node = n;
      ctx.completeNow();
    }));
  }

  @AfterEach
  void stopCapture() {
    log.close();
  }

  @ParameterizedTest(name = "curl {0} http://{1}/ is refused")
  @CsvSource({
      "--socks5, 127.0.0.1", "--socks5-hostname, 127.0.0.1",
      "--socks5, 127.0.0.2",
      "--socks5, [::1]", "--socks5-hostname, [::1]",
      "--socks5-hostname, localhost", "--socks5, localhost",
      "--socks5, 0.0.0.0", "--socks5-hostname, 0.0.0.0",
      "--socks5, [::]",
      "--socks5, [::ffff:127.0.0.1]", "--socks5-hostname, [::ffff:127.0.0.1]",
      "--socks5-hostname, 127.1", "--socks5-hostname, 2130706433", "--socks5-hostname, 0x7f000001"})
  void loopbackIsRefused(String mode, String host) {
    List<String> cmd = CurlClientTest.curl(mode, "127.0.0.1:" + node.port());
    cmd.add("http://" + host + ":" + http().port() + "/hello");

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.out()).as("reached a loopback service\n" + r.describe() + "\nproxy log:\n" + log.text()).isEmpty();
    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isEqualTo(97);
    assertThat(r.stderr()).as(r.describe() + "\nproxy log:\n" + log.text()).contains("(2)");
  }
}
