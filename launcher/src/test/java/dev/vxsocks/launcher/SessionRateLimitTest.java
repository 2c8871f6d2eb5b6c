package dev.vxsocks.launcher;

import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.launcher.RateRace.Entrant;
import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.SharedTargets;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;

import static dev.vxsocks.testing.SharedTargets.echo;
import static dev.vxsocks.testing.SharedTargets.http;
import static dev.vxsocks.testing.TestProxy.PASSWORD;
import static dev.vxsocks.testing.TestProxy.USER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code limits.new-sessions-per-second-per-*} on one node, as clients meet them: racing sessions from one address
 * (RateRace: how many may get through is bounded by the race's own duration), the user and the address keyed apart,
 * BIND and UDP ASSOCIATE counted like CONNECT, a limit changed live, and curl's message for the refusal. Each test
 * uses source addresses of its own on 127/8, so no bucket is shared between tests.
 */
@ExtendWith({VertxExtension.class, SharedTargets.class})
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionRateLimitTest {

  private LogCapture sessions;

  @BeforeEach
  void capture() {
    sessions = new LogCapture("dev.vxsocks.session", Level.INFO);
  }

  @AfterEach
  void stop() {
    sessions.close();
  }

  private static Node start(Vertx vertx, JsonObject config) throws Exception {
    return ProxyFixture.start(vertx, config).await(20, TimeUnit.SECONDS);
  }

  private static JsonObject withRates(JsonObject config, int perUser, int perIp) {
    return config.put("limits", new JsonObject().put("new-sessions-per-second-per-user", perUser)
        .put("new-sessions-per-second-per-client-ip", perIp));
  }

  /** Summary lines whose close reason is {@code reason}, once at least {@code atLeast} are there (bounded wait). */
  private long closedWith(String reason, long atLeast) throws InterruptedException {
    String field = "close=\"" + reason + "\"";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long n;
    do {
      n = sessions.lines().stream().filter(l -> l.contains(field)).count();
      if (n >= atLeast) {
        return n;
      }
      Thread.sleep(20);
    } while (System.nanoTime() - deadline < 0);
    return n;
  }

  @Test
  void racingConnectsFromOneAddressGetTheLimitAndTheRestNotAllowed(Vertx vertx) throws Exception {
    Node node = start(vertx, withRates(TestProxy.config("none"), 0, 10));
    List<Entrant> entrants = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      entrants.add(new Entrant(node.port(), "127.0.0.11", null, null));
    }
    RateRace.Result warm = RateRace.warmUp(entrants, "127.0.0.10", echo().port());
    long refusedBefore = node.sessionRates().refusedPerClientIp();
    long loggedBefore = closedWith("limit: new sessions per second per client ip (10)", warm.refused());

    RateRace.Result r = RateRace.run(entrants, echo().port());

    r.assertWithin(10, e -> true, "100 racing from 127.0.0.11 at 10/s");
    assertThat(r.refused()).isEqualTo(100 - r.granted());
    assertThat(node.sessionRates().refusedPerClientIp() - refusedBefore).isEqualTo(r.refused());
    assertThat(node.sessionRates().refusedPerUser()).isZero();
    assertThat(closedWith("limit: new sessions per second per client ip (10)", loggedBefore + r.refused()))
        .isEqualTo(loggedBefore + r.refused());
  }

  @Test
  void theUserAndTheAddressAreKeyedApart(Vertx vertx) throws Exception {
    JsonObject cfg = withRates(TestProxy.config("username-password"), 5, 8);
    cfg.getJsonArray("users")
        .add(new JsonObject().put("name", "carol").put("password", TestProxy.PASSWORD_HASH))
        .add(new JsonObject().put("name", "dave").put("password", TestProxy.PASSWORD_HASH));
    Node node = start(vertx, cfg);

    // One user from two addresses: the user's limit (5) binds, whatever the address.
    List<Entrant> alice = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      alice.add(new Entrant(node.port(), i % 2 == 0 ? "127.0.0.21" : "127.0.0.22", USER, PASSWORD));
    }
    RateRace.Result byUser = RateRace.run(alice, echo().port());
    byUser.assertWithin(5, e -> true, "alice from two addresses at 5/s per user");
    assertThat(node.sessionRates().refusedPerUser()).isEqualTo(byUser.refused());
    assertThat(closedWith("limit: new sessions per second per user (5)", byUser.refused()))
        .isEqualTo(byUser.refused());

    // Two users from one address: the address's limit (8) binds, and neither user goes over its own 5.
    List<Entrant> shared = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      shared.add(new Entrant(node.port(), "127.0.0.23", i % 2 == 0 ? "carol" : "dave", PASSWORD));
    }
    RateRace.Result byAddress = RateRace.run(shared, echo().port());
    byAddress.assertWithin(8, e -> true, "carol and dave from 127.0.0.23 at 8/s per address");
    assertThat(byAddress.granted(e -> e.user().equals("carol"))).isLessThanOrEqualTo(byAddress.bound(5));
    assertThat(byAddress.granted(e -> e.user().equals("dave"))).isLessThanOrEqualTo(byAddress.bound(5));
    assertThat(node.sessionRates().refusedPerClientIp()).isPositive();
    assertThat(node.sessionRates().refusedPerUser() + node.sessionRates().refusedPerClientIp())
        .isEqualTo(byUser.refused() + byAddress.refused());
  }

  /** Every command that takes a session slot takes a token: at 1/s, a CONNECT leaves none for BIND or UDP ASSOCIATE. */
  @Test
  void bindAndUdpAssociateCountAsNewSessions(Vertx vertx) throws Exception {
    JsonObject cfg = withRates(TestProxy.config("none"), 0, 1);
    // UDP ASSOCIATE names no destination: a rule without "to" lets it through.
    cfg.getJsonObject("rules").getJsonArray("request")
        .add(new JsonObject().put("action", "allow").put("commands", new io.vertx.core.json.JsonArray().add("udp-associate")));
    Node node = start(vertx, cfg);
    List<Entrant> entrants = List.of(
        new Entrant(node.port(), "127.0.0.31", null, null, RawClient.CONNECT),
        new Entrant(node.port(), "127.0.0.31", null, null, RawClient.BIND),
        new Entrant(node.port(), "127.0.0.31", null, null, RawClient.UDP_ASSOCIATE),
        new Entrant(node.port(), "127.0.0.32", null, null, RawClient.BIND),
        new Entrant(node.port(), "127.0.0.33", null, null, RawClient.UDP_ASSOCIATE));

    RateRace.Result r = RateRace.run(entrants, echo().port());

    // 127.0.0.31: one of three within the race's bound; .32 and .33 each have a token of their own.
    r.assertWithin(1, e -> e.source().equals("127.0.0.31"), "three commands from 127.0.0.31 at 1/s");
    assertThat(r.codes()[3]).as("BIND from 127.0.0.32").isZero();
    assertThat(r.codes()[4]).as("UDP ASSOCIATE from 127.0.0.33").isZero();
  }

  @Test
  void aLimitChangedLiveAppliesToTheNextSession(Vertx vertx) throws Exception {
    JsonObject cfg = withRates(TestProxy.config("none"), 0, 3);
    Node node = start(vertx, cfg);
    List<Entrant> entrants = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      entrants.add(new Entrant(node.port(), "127.0.0.41", null, null));
    }
    RateRace.run(entrants, echo().port()).assertWithin(3, e -> true, "20 at 3/s");

    node.reload(ProxyConfig.fromJson(withRates(TestProxy.config("none"), 0, 0)), "off");
    RateRace.Result off = RateRace.run(entrants, echo().port());
    assertThat(off.granted()).as("limit off: %s", off).isEqualTo(20);

    node.reload(ProxyConfig.fromJson(withRates(TestProxy.config("none"), 0, 12)), "twelve");
    List<Entrant> fresh = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      fresh.add(new Entrant(node.port(), "127.0.0.42", null, null));
    }
    RateRace.run(fresh, echo().port()).assertWithin(12, e -> true, "40 at 12/s");
  }

  /** curl, which nobody here wrote, reports the refusal as SOCKS reply 2 ("not allowed"). */
  @Test
  void curlSeesNotAllowed(Vertx vertx) throws Exception {
    Node node = start(vertx, withRates(TestProxy.config("none"), 0, 1));
    List<String> cmd = CurlClientTest.curl("--socks5", "127.0.0.1:" + node.port());
    cmd.add("http://127.0.0.1:" + http().port() + "/hello");

    Clients.Result first = Clients.run(cmd, new byte[0]);
    assertThat(first.exit()).as(first.describe()).isZero();
    // At 1/s, the next curl within the second is refused; each run takes a fraction of that, so a few suffice.
    Clients.Result refused = null;
    for (int i = 0; i < 5 && refused == null; i++) {
      Clients.Result again = Clients.run(cmd, new byte[0]);
      if (again.exit() != 0) {
        refused = again;
      }
    }
    assertThat(refused).as("a curl refused within 5 runs at 1/s").isNotNull();
    assertThat(refused.exit()).as("CURLE_PROXY\n" + refused.describe()).isEqualTo(97);
    assertThat(refused.stderr()).as(refused.describe()).contains("(2)");
    assertThat(node.sessionRates().refusedPerClientIp()).isPositive();
    System.out.println("curl on a refusal: " + refused.stderr().strip());
  }
}
