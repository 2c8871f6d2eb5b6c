package dev.vxsocks.auth.cluster;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.vxsocks.auth.throttle.LoginRecord.Standing;
import dev.vxsocks.auth.throttle.LoginThrottleStore;
import dev.vxsocks.auth.throttle.LoginThrottleStoreContract;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster-wide store on two Hazelcast members in this JVM (TCP/IP on 127.0.0.1, multicast off, a cluster name of
 * its own): the store contract with failures counted alternately through one member and the other, so every
 * threshold is reached only by failures of both adding up.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HazelcastLoginThrottleStoreTest extends LoginThrottleStoreContract {

  private static Vertx vertx;
  private static HazelcastInstance a;
  private static HazelcastInstance b;
  private static LoginThrottleStore[] stores;

  @BeforeAll
  static void twoMembers() throws Exception {
    String name = "throttle-" + UUID.randomUUID();
    int portA = TwoMemberClusterTest.freePort();
    int portB = TwoMemberClusterTest.freePort();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
    a = Hazelcast.newHazelcastInstance(HazelcastSetup.hazelcastConfig(
        TwoMemberClusterTest.cluster(name, portA, members, true), false));
    b = Hazelcast.newHazelcastInstance(HazelcastSetup.hazelcastConfig(
        TwoMemberClusterTest.cluster(name, portB, members, true), false));
    TwoMemberClusterTest.poll(Duration.ofSeconds(30), () -> a.getCluster().getMembers().size() == 2);
    vertx = Vertx.vertx();
    stores = new LoginThrottleStore[] {new HazelcastLoginThrottleStore(vertx, a).start(),
        new HazelcastLoginThrottleStore(vertx, b).start()};
  }

  @AfterAll
  static void stop() throws Exception {
    if (b != null) {
      b.shutdown();
    }
    if (a != null) {
      a.shutdown();
    }
    if (vertx != null) {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }

  @Override
  protected LoginThrottleStore store(int i) {
    return stores[i];
  }

  /** A member remembers what it read, until any member changes that address: then it reads again. */
  @Test
  void aFailureCountedOnOneMemberReachesTheOthersRememberedReadAtOnce() throws Exception {
    String address = address();
    long t = 30_000_000;
    assertThat(await(stores[0].read(address, "alice", t))).isEqualTo(Standing.NONE);
    await(stores[1].fail(address, "alice", RULES, t));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (await(stores[0].read(address, "alice", t)).user().failures() != 1) {
      assertThat(System.nanoTime() - deadline).as("member 0 hears of the failure within 2 s").isNegative();
      Thread.sleep(5);
    }
    await(stores[0].succeed(address, "alice", t));
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (await(stores[1].read(address, "alice", t)).user().failures() != 0) {
      assertThat(System.nanoTime() - deadline).as("member 1 hears of the success within 2 s").isNegative();
      Thread.sleep(5);
    }
  }
}
