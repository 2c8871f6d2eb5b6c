package dev.vxsocks.auth;

import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.auth.api.AuthorizeRequest;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.CommandName;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The new-session rate limits through the auth verticle's event-bus contract, on a clock that does not move (so
 * counts are exact): which questions take a token, what a refusal says, what it is counted as, and how it stands
 * with the concurrent-session limits.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class SessionRatesTest {

  private final AtomicLong clock = new AtomicLong();
  private AuthVerticle verticle;
  private AuthClient client;
  private InMemorySessionLimiter slots;

  static ProxyConfig config(int ratePerUser, int ratePerIp, int sessionsPerIp) {
    return ProxyConfig.fromJson(new JsonObject()
        .put("auth", new JsonObject().put("methods", new JsonArray().add("none")))
        .put("rules", new JsonObject().put("request", new JsonArray()
            .add(new JsonObject().put("action", "deny").put("to", new JsonArray().add("10.0.0.0/8")))
            .add(new JsonObject().put("action", "allow"))))
        .put("limits", new JsonObject().put("new-sessions-per-second-per-user", ratePerUser)
            .put("new-sessions-per-second-per-client-ip", ratePerIp).put("sessions-per-client-ip", sessionsPerIp)));
  }

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    ProxyConfig config = config(3, 2, 0);
    slots = new InMemorySessionLimiter();
    verticle = new AuthVerticle(config, new InMemoryUserStore(config.users()), slots,
        new InMemorySessionRateLimiter(clock::get));
    client = new AuthClient(vertx, Duration.ofSeconds(20));
    vertx.deployVerticle(verticle).await(20, TimeUnit.SECONDS);
  }

  private static AuthorizeRequest connect(String user, String client, String address) {
    return new AuthorizeRequest(user, client, CommandName.CONNECT, null, address, 443);
  }

  private Verdict await(io.vertx.core.Future<Verdict> f) throws Exception {
    return f.await(20, TimeUnit.SECONDS);
  }

  @Test
  void connectBindAndUdpAssociateEachTakeATokenButAUdpAssociationsOwnSlotDoesNot() throws Exception {
    // CONNECT (authorize and open in one), then BIND / UDP ASSOCIATE (session open): 2 per second per address.
    assertThat(await(client.authorizeAndOpen(connect(null, "127.0.0.1", "192.0.2.1"))).allowed()).isTrue();
    assertThat(await(client.openUdpAssociation(null, "127.0.0.1")).allowed()).as("not a new session").isTrue();
    assertThat(await(client.openSession(null, "127.0.0.1")).allowed()).isTrue();
    Verdict third = await(client.openSession(null, "127.0.0.1"));
    assertThat(third.allowed()).isFalse();
    assertThat(third.reason()).isEqualTo(Verdict.LIMIT);
    assertThat(third.detail()).isEqualTo("new sessions per second per client ip (2)");
    assertThat(third.limit()).isEqualTo(Verdict.RATE_PER_IP);
    assertThat(third.lease()).isNull();
    Verdict fourth = await(client.authorizeAndOpen(connect(null, "127.0.0.1", "192.0.2.1")));
    assertThat(fourth.reason()).isEqualTo(Verdict.LIMIT);
    assertThat(verticle.sessionRates().refusedPerClientIp()).isEqualTo(2);
    assertThat(verticle.sessionRates().refusedPerUser()).isZero();
  }

  @Test
  void aRequestTheRulesDenyTakesNoToken() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertThat(await(client.authorizeAndOpen(connect(null, "127.0.0.2", "10.1.1.1"))).reason())
          .isEqualTo(Verdict.DENIED);
    }
    assertThat(await(client.authorizeAndOpen(connect(null, "127.0.0.2", "192.0.2.1"))).allowed()).isTrue();
    assertThat(await(client.authorizeAndOpen(connect(null, "127.0.0.2", "192.0.2.1"))).allowed()).isTrue();
  }

  @Test
  void perUserRefusalIsSaidAndCountedApart() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(await(client.openSession("alice", "127.0.1." + i)).allowed()).isTrue();
    }
    Verdict v = await(client.openSession("alice", "127.0.1.9"));
    assertThat(v.reason()).isEqualTo(Verdict.LIMIT);
    assertThat(v.detail()).isEqualTo("new sessions per second per user (3)");
    assertThat(v.limit()).isEqualTo(Verdict.RATE_PER_USER);
    assertThat(verticle.sessionRates().refusedPerUser()).isEqualTo(1);
    assertThat(verticle.sessionRates().refusedPerClientIp()).isZero();
  }

  /** The rate is checked before the slot: a session the rate refuses holds no slot, and one it lets through may still find the slots full. */
  @Test
  void theRateComesBeforeTheConcurrentLimits() throws Exception {
    verticle.apply(config(0, 3, 1));
    Verdict first = await(client.openSession(null, "127.0.0.3"));
    assertThat(first.allowed()).isTrue();
    Verdict full = await(client.openSession(null, "127.0.0.3"));
    assertThat(full.detail()).contains("sessions-per-client-ip");
    client.closeSession(first.lease());
    assertThat(await(client.openSession(null, "127.0.0.3")).allowed()).as("third token, slot free again").isTrue();
    Verdict rate = await(client.openSession(null, "127.0.0.3"));
    assertThat(rate.detail()).isEqualTo("new sessions per second per client ip (3)");
    assertThat(slots.countForClientIp("127.0.0.3")).isEqualTo(1);
  }

  @Test
  void appliedLiveAndOffAtZero() throws Exception {
    verticle.apply(config(0, 0, 0));
    for (int i = 0; i < 50; i++) {
      assertThat(await(client.openSession("alice", "127.0.0.4")).allowed()).isTrue();
    }
    assertThat(verticle.sessionRates().limiter().keysHeld()).isZero();
    verticle.apply(config(0, 1, 0));
    assertThat(await(client.openSession("alice", "127.0.0.4")).allowed()).isTrue();
    assertThat(await(client.openSession("alice", "127.0.0.4")).allowed()).isFalse();
  }
}
