package dev.vxsocks.auth.cluster;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.vxsocks.auth.SessionRateLimiter.Outcome;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.auth.cluster.TwoMemberClusterTest.cluster;
import static dev.vxsocks.auth.cluster.TwoMemberClusterTest.freePort;
import static dev.vxsocks.auth.cluster.TwoMemberClusterTest.poll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The cluster-wide new-session rate limits on two clustered Vert.x instances in this JVM (TCP/IP on 127.0.0.1,
 * multicast off, a cluster name of their own). Races on the real cluster clock are checked against the bound the
 * race's duration allows ({@code dev.vxsocks.auth.Gcra}); the rest runs on a stopped clock, where counts are exact.
 * Every test uses keys of its own.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HazelcastSessionRateLimiterTest {

  private static final String NAME = "rates-" + UUID.randomUUID();
  private static Vertx vertxA;
  private static Vertx vertxB;
  private static HazelcastInstance hzA;
  private static HazelcastInstance hzB;

  @BeforeAll
  static void startTwoMembers() throws Exception {
    int portA = freePort();
    int portB = freePort();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
    HazelcastClusterManager a = HazelcastSetup.clusterManager(cluster(NAME, portA, members, true));
    HazelcastClusterManager b = HazelcastSetup.clusterManager(cluster(NAME, portB, members, true));
    Future<Vertx> fa = HazelcastSetup.clusteredVertx(new VertxOptions(), cluster(NAME, portA, members, true), a);
    Future<Vertx> fb = HazelcastSetup.clusteredVertx(new VertxOptions(), cluster(NAME, portB, members, true), b);
    vertxA = fa.await(60, TimeUnit.SECONDS);
    vertxB = fb.await(60, TimeUnit.SECONDS);
    hzA = a.getHazelcastInstance();
    hzB = b.getHazelcastInstance();
    poll(Duration.ofSeconds(30), () -> hzA.getCluster().getMembers().size() == 2);
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertxB != null) {
      vertxB.close().await(30, TimeUnit.SECONDS);
    }
    if (vertxA != null) {
      vertxA.close().await(30, TimeUnit.SECONDS);
    }
  }

  private static HazelcastSessionRateLimiter limiter(Vertx vertx, HazelcastInstance hz) {
    return new HazelcastSessionRateLimiter(vertx, hz, true, Duration.ofSeconds(10));
  }

  private static Outcome take(HazelcastSessionRateLimiter l, String user, String ip, int perUser, int perIp)
      throws Exception {
    return l.take(user, ip, perUser, perIp).await(20, TimeUnit.SECONDS);
  }

  @Test
  void racingFromBothMembersLetsTheLimitThrough() throws Exception {
    HazelcastSessionRateLimiter la = limiter(vertxA, hzA);
    HazelcastSessionRateLimiter lb = limiter(vertxB, hzB);
    // Warm both members' paths to the key's owner on another key, so the race measures the decisions.
    take(la, null, "10.9.0.1", 0, 1000);
    take(lb, null, "10.9.0.1", 0, 1000);
    List<Future<Outcome>> race = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < 100; i++) {
      race.add((i % 2 == 0 ? la : lb).take(null, "10.9.0.2", 0, 10));
    }
    Future.all(race).await(30, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - start) / 1e9;
    long through = race.stream().filter(f -> f.result() == Outcome.LET_THROUGH).count();
    long bound = 10 + (long) Math.floor(10 * seconds);
    System.out.printf("rates across two members: %d of 100 let through at 10/s in %.3f s (bound %d)%n", through,
        seconds, bound);
    assertThat(through).isBetween(10L, bound);
    assertThat(race).allMatch(f -> f.result() == Outcome.LET_THROUGH || f.result() == Outcome.PER_CLIENT_IP);
  }

  @Test
  void offCostsNoClusterCall() throws Exception {
    HazelcastSessionRateLimiter la = limiter(vertxA, hzA);
    HazelcastSessionRateLimiter lb = limiter(vertxB, hzB);
    IMap<String, Long> map = hzA.getMap(HazelcastSetup.RATES_MAP);
    for (int i = 0; i < 200; i++) {
      assertThat(take(i % 2 == 0 ? la : lb, "off-user", "10.9.1." + (i % 50), 0, 0)).isEqualTo(Outcome.LET_THROUGH);
      // Without a user, a per-user limit has nothing to count either.
      assertThat(take(la, null, "10.9.1.1", 5, 0)).isEqualTo(Outcome.LET_THROUGH);
    }
    assertThat(la.clusterCalls()).isZero();
    assertThat(lb.clusterCalls()).isZero();
    assertThat(map.containsKey("u:off-user")).isFalse();
    assertThat(map.containsKey("ip:10.9.1.1")).isFalse();
  }

  /** A node that learned a key is empty refuses it locally until a token is due: calls stay near the limit. */
  @Test
  void aClientOverItsRateCostsAboutOneCallPerTokenNotOnePerAttempt() throws Exception {
    HazelcastSessionRateLimiter la = limiter(vertxA, hzA);
    long start = System.nanoTime();
    int through = 0;
    for (int i = 0; i < 2000; i++) {
      if (take(la, null, "10.9.2.1", 0, 5) == Outcome.LET_THROUGH) {
        through++;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long bound = 5 + (long) Math.floor(5 * seconds);
    System.out.printf("rates: 2000 attempts in %.3f s: %d let through (bound %d) for %d cluster calls%n", seconds,
        through, bound, la.clusterCalls());
    assertThat((long) through).isBetween(5L, bound);
    // Each call is a grant or the refusal that tells when the next token is due.
    assertThat(la.clusterCalls()).isLessThanOrEqualTo(2 * bound + 1);
  }

  @Test
  void aSessionRefusedByOneLimitGivesTheOthersTokenBack() throws Exception {
    long stopped = TimeUnit.MILLISECONDS.toNanos(hzA.getCluster().getClusterTime());
    HazelcastSessionRateLimiter la = new HazelcastSessionRateLimiter(vertxA, hzA, true, Duration.ofSeconds(10),
        () -> stopped);
    IMap<String, Long> map = hzA.getMap(HazelcastSetup.RATES_MAP);
    String ip = "ip:10.9.3.1";
    assertThat(take(la, "give-back", "10.9.3.1", 1, 2)).isEqualTo(Outcome.LET_THROUGH);
    Long afterOne = map.get(ip);
    // The user's limit refuses; the address's token taken at the same time goes back.
    assertThat(take(la, "give-back", "10.9.3.1", 1, 2)).isEqualTo(Outcome.PER_USER);
    poll(Duration.ofSeconds(5), () -> afterOne.equals(map.get(ip)));
    assertThat(take(la, "another", "10.9.3.1", 1, 2)).isEqualTo(Outcome.LET_THROUGH);
    assertThat(take(la, "a-third", "10.9.3.1", 1, 2)).isEqualTo(Outcome.PER_CLIENT_IP);
  }

  @Test
  void keysExpire() throws Exception {
    HazelcastSessionRateLimiter lb = limiter(vertxB, hzB);
    IMap<String, Long> map = hzA.getMap(HazelcastSetup.RATES_MAP);
    for (int i = 0; i < 50; i++) {
      take(lb, "expiring-" + i, "10.9.4." + i, 1, 1);
      take(lb, "expiring-" + i, "10.9.4." + i, 1, 1); // refused: remembered locally
    }
    assertThat(map.containsKey("u:expiring-7")).isTrue();
    assertThat(lb.keysHeld()).isPositive();
    // Hazelcast removes an expired entry when it is read (and in a background sweep): none of them is left.
    poll(Duration.ofSeconds(10), () -> {
      for (int i = 0; i < 50; i++) {
        if (map.containsKey("u:expiring-" + i) || map.containsKey("ip:10.9.4." + i)) {
          return false;
        }
      }
      return true;
    });
    Thread.sleep(1100);
    take(lb, null, "10.9.4.200", 0, 1); // the local sweep runs at most once a second, on a take
    assertThat(lb.keysHeld()).isZero();
  }

  @Test
  void unreachableStoreRefusesOrLetsThroughAsConfigured() throws Exception {
    int port = freePort();
    HazelcastInstance lone = Hazelcast.newHazelcastInstance(HazelcastSetup.hazelcastConfig(
        cluster("lone-" + UUID.randomUUID(), port, List.of("127.0.0.1:" + port), true), false));
    HazelcastSessionRateLimiter refuse = new HazelcastSessionRateLimiter(vertxA, lone, true, Duration.ofMillis(500));
    HazelcastSessionRateLimiter allow = new HazelcastSessionRateLimiter(vertxA, lone, false, Duration.ofMillis(500));
    assertThat(take(refuse, null, "10.9.5.1", 0, 100)).isEqualTo(Outcome.LET_THROUGH);
    lone.getLifecycleService().terminate();
    assertThatThrownBy(() -> take(refuse, null, "10.9.5.1", 0, 100))
        .hasMessageContaining("cluster session store unreachable");
    assertThat(take(allow, null, "10.9.5.1", 0, 100)).isEqualTo(Outcome.LET_THROUGH);
    // Off, nothing is asked of the store.
    assertThat(take(refuse, null, "10.9.5.1", 0, 0)).isEqualTo(Outcome.LET_THROUGH);
  }
}
