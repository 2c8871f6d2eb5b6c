package dev.vxsocks.auth.throttle;

import dev.vxsocks.auth.AuthVerticle;
import dev.vxsocks.auth.InMemorySessionLimiter;
import dev.vxsocks.auth.InMemoryUserStore;
import dev.vxsocks.auth.UserStore;
import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.ProxyConfig.User;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The login throttle in the auth verticle, asked over the local event bus with the client address the proxy would
 * send. A login that reaches the credential check looks its user up first: {@link #lookups} counts those, so a
 * login refused "without a hash" is one that never got there. Hashes cost 1000 iterations; the back-off is 1 s.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LoginThrottleTest {

  /** Password "wonderland", 1000 iterations. */
  static final String ALICE_HASH = "$pbkdf2-sha256$i=1000$EBESExQVFhcYGRobHB0eHw$ykMxUYVFttwNeFlvN0rcBGMjuWA8fzmn8wsfLr8Auog";
  static final String RIGHT = "wonderland";

  private Vertx vertx;
  private AuthVerticle verticle;
  private AuthClient client;
  private final AtomicInteger lookups = new AtomicInteger();

  static ProxyConfig config(int perAddress, int perUser, int hashesPerUser) {
    return ProxyConfig.fromJson(new JsonObject()
        .put("auth", new JsonObject().put("methods", "username-password").put("throttle", new JsonObject()
            .put("failures-per-client-ip", perAddress).put("failures-per-user-and-client-ip", perUser)
            .put("window", "1m").put("backoff", "1s").put("backoff-max", "4s").put("hashes-per-user", hashesPerUser)))
        .put("users", new JsonArray().add(new JsonObject().put("name", "alice").put("password", ALICE_HASH))));
  }

  @BeforeEach
  void deploy() throws Exception {
    start(config(5, 3, 0));
  }

  private void start(ProxyConfig config) throws Exception {
    vertx = Vertx.vertx();
    InMemoryUserStore users = new InMemoryUserStore(config.users());
    UserStore counted = name -> {
      lookups.incrementAndGet();
      return users.find(name);
    };
    verticle = new AuthVerticle(config, counted, new InMemorySessionLimiter());
    vertx.deployVerticle(verticle).await(20, TimeUnit.SECONDS);
    client = new AuthClient(vertx, Duration.ofSeconds(20));
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(20, TimeUnit.SECONDS);
  }

  private Verdict login(String user, String password, String from) throws Exception {
    return client.authenticate(user, password, from).await(20, TimeUnit.SECONDS);
  }

  @Test
  void wrongPasswordsLockThatNameFromThatAddressOnlyAndTheLockoutCostsNoHash() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(login("alice", "guess-" + i, "198.51.100.1").reason()).isEqualTo(Verdict.BAD_CREDENTIALS);
    }
    int before = lookups.get();
    // The right password from the locked-out address is refused too: the lockout does not check.
    assertThat(login("alice", RIGHT, "198.51.100.1").reason()).isEqualTo(Verdict.THROTTLED);
    for (int i = 0; i < 20; i++) {
      assertThat(login("alice", "guess", "198.51.100.1").reason()).isEqualTo(Verdict.THROTTLED);
    }
    assertThat(lookups.get()).as("refused without a credential check").isEqualTo(before);
    // Alice from her own address is not locked out.
    assertThat(login("alice", RIGHT, "198.51.100.2").allowed()).isTrue();
    // Other names from the attacker's address still are checked (3 of the address's 5 failures so far).
    assertThat(login("mallory", "x", "198.51.100.1").reason()).isEqualTo(Verdict.BAD_CREDENTIALS);
    assertThat(login("bob", "x", "198.51.100.1").reason()).isEqualTo(Verdict.BAD_CREDENTIALS);
    // Five failures: now the whole address is locked out, for every name.
    assertThat(login("carol", "x", "198.51.100.1").reason()).isEqualTo(Verdict.THROTTLED);
    assertThat(login("alice", RIGHT, "198.51.100.2").allowed()).isTrue();
  }

  @Test
  void theLockoutEndsAfterItsBackOffAndTheNextOneIsLonger() throws Exception {
    verticle.apply(config(100, 3, 0));
    for (int i = 0; i < 3; i++) {
      login("alice", "guess", "198.51.100.3");
    }
    assertThat(login("alice", RIGHT, "198.51.100.3").reason()).isEqualTo(Verdict.THROTTLED);
    Thread.sleep(1_100);
    for (int i = 0; i < 3; i++) {
      assertThat(login("alice", "guess", "198.51.100.3").reason()).isEqualTo(Verdict.BAD_CREDENTIALS);
    }
    // The second lockout lasts 2 s: still refused after 1.1 s.
    Thread.sleep(1_100);
    assertThat(login("alice", RIGHT, "198.51.100.3").reason()).isEqualTo(Verdict.THROTTLED);
    Thread.sleep(1_000);
    assertThat(login("alice", RIGHT, "198.51.100.3").allowed()).isTrue();
  }

  @Test
  void unknownNamesCountAsWrongPasswordsDo() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(login("mallory", "guess", "198.51.100.4").reason()).isEqualTo(Verdict.BAD_CREDENTIALS);
    }
    assertThat(login("mallory", "guess", "198.51.100.4").reason()).isEqualTo(Verdict.THROTTLED);
  }

  @Test
  void aSuccessForgetsThatNamesFailuresAtThatAddress() throws Exception {
    login("alice", "typo", "198.51.100.5");
    login("alice", "typo", "198.51.100.5");
    assertThat(login("alice", RIGHT, "198.51.100.5").allowed()).isTrue();
    login("alice", "typo", "198.51.100.5");
    assertThat(login("alice", "typo", "198.51.100.5").reason()).as("2 failures since the success")
        .isEqualTo(Verdict.BAD_CREDENTIALS);
    assertThat(login("alice", RIGHT, "198.51.100.5").allowed()).isTrue();
  }

  @Test
  void anIpv6ClientCountsByItsSlash64() throws Exception {
    login("alice", "guess", "2001:db8:1:2::1");
    login("alice", "guess", "2001:db8:1:2:aaaa::7");
    login("alice", "guess", "2001:db8:1:2:ffff:ffff:ffff:ffff");
    assertThat(login("alice", RIGHT, "2001:db8:1:2::99").reason()).isEqualTo(Verdict.THROTTLED);
    assertThat(login("alice", RIGHT, "2001:db8:1:3::1").allowed()).isTrue();
    assertThat(LoginThrottle.addressKey("2001:DB8:0:0:1::1")).isEqualTo("2001:db8:0:0::/64");
    assertThat(LoginThrottle.addressKey("::ffff:192.0.2.1")).isEqualTo("192.0.2.1");
    assertThat(LoginThrottle.addressKey("192.0.2.1")).isEqualTo("192.0.2.1");
  }

  @Test
  void newThresholdsApplyToTheNextLogin() throws Exception {
    verticle.apply(config(0, 0, 0));
    for (int i = 0; i < 10; i++) {
      assertThat(login("alice", "guess", "198.51.100.6").reason()).isEqualTo(Verdict.BAD_CREDENTIALS);
    }
    assertThat(login("alice", RIGHT, "198.51.100.6").allowed()).isTrue();
    verticle.apply(config(0, 1, 0));
    login("alice", "guess", "198.51.100.6");
    assertThat(login("alice", RIGHT, "198.51.100.6").reason()).isEqualTo(Verdict.THROTTLED);
  }

  @Test
  void thePerUserRateHoldsBackAddressesWithFailuresNeverACleanOne() throws Exception {
    stop();
    start(config(1000, 1000, 2));
    // Each attacking address has a failure on record: from then on its checks for alice share 2 a second.
    for (int i = 0; i < 8; i++) {
      assertThat(login("alice", "guess", "203.0.113." + i).reason()).isEqualTo(Verdict.BAD_CREDENTIALS);
    }
    List<Future<Verdict>> burst = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      // Each a password of its own: the same wrong password at once would share one hash.
      burst.add(client.authenticate("alice", "guess-" + i, "203.0.113." + i));
    }
    long start = System.nanoTime();
    Verdict owner = login("alice", RIGHT, "198.51.100.7");
    long ownerMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(owner.allowed()).isTrue();
    assertThat(ownerMs).as("the owner's login from a clean address does not wait for the rate").isLessThan(900);
    int throttled = 0;
    for (Future<Verdict> f : burst) {
      String reason = f.await(20, TimeUnit.SECONDS).reason();
      assertThat(reason).isIn(Verdict.BAD_CREDENTIALS, Verdict.THROTTLED);
      throttled += reason.equals(Verdict.THROTTLED) ? 1 : 0;
    }
    // 2 a second, a wait of at most 1 s: 3 of the 8 get a slot (now, +0.5 s, +1 s) and 5 are refused when the burst
    // arrives at once; a busy machine that spreads it out gives a slot or two more.
    assertThat(throttled).isBetween(3, 5);
  }
}
