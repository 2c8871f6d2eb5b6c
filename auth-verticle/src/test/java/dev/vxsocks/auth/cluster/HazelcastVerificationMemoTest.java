package dev.vxsocks.auth.cluster;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.replicatedmap.ReplicatedMap;
import dev.vxsocks.auth.MemoSecret;
import dev.vxsocks.config.cluster.HazelcastSetup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The memo in a cluster's replicated map: two Hazelcast members in this JVM, joined over TCP/IP on 127.0.0.1 with
 * multicast off under a cluster name of their own. What one member records the other finds; the map holds neither
 * the secret nor the password nor the name; an entry goes when its lifetime ends; and every entry is still there
 * when the member that wrote it dies.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HazelcastVerificationMemoTest {

  private static final byte[] SECRET = "memo-test-secret-0123456789abcdef0123456789".getBytes(StandardCharsets.US_ASCII);
  private static final String HASH = "$pbkdf2-sha256$i=600000$EBESExQVFhcYGRobHB0eHw$ykMxUYVFttwNeFlvN0rcBGMjuWA8fzmn8wsfLr8Auog";
  private static final String PASSWORD = "correct horse battery staple";
  private static final Duration TTL = Duration.ofMinutes(10);

  private static HazelcastInstance hzA;
  private static HazelcastInstance hzB;

  @BeforeAll
  static void start() throws Exception {
    String name = "memo-" + UUID.randomUUID();
    int portA = TwoMemberClusterTest.freePort();
    int portB = TwoMemberClusterTest.freePort();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
    hzA = Hazelcast.newHazelcastInstance(HazelcastSetup.hazelcastConfig(TwoMemberClusterTest.cluster(name, portA, members, true), false));
    hzB = Hazelcast.newHazelcastInstance(HazelcastSetup.hazelcastConfig(TwoMemberClusterTest.cluster(name, portB, members, true), false));
    TwoMemberClusterTest.poll(Duration.ofSeconds(30), () -> hzA.getCluster().getMembers().size() == 2);
  }

  @AfterAll
  static void stop() throws Exception {
    for (HazelcastInstance hz : new HazelcastInstance[] {hzB, hzA}) {
      if (hz != null && hz.getLifecycleService().isRunning()) {
        hz.shutdown();
      }
    }
  }

  private static HazelcastVerificationMemo memo(HazelcastInstance hz, byte[] secret) {
    return new HazelcastVerificationMemo(hz, MemoSecret.of(secret), TTL);
  }

  private static boolean matches(HazelcastVerificationMemo memo, String name, String password) throws Exception {
    return memo.check(name, HASH, password).await(10, TimeUnit.SECONDS);
  }

  @Test
  @Order(1)
  void anEntryGoesFromTheMapWhenItsLifetimeEnds() throws Exception {
    HazelcastVerificationMemo brief = new HazelcastVerificationMemo(hzA, MemoSecret.of(SECRET), Duration.ofSeconds(1));
    ReplicatedMap<String, String> map = hzB.getReplicatedMap(HazelcastSetup.MEMO_MAP);
    brief.record("dave", HASH, PASSWORD);
    TwoMemberClusterTest.poll(Duration.ofSeconds(5), () -> map.size() == 1);
    TwoMemberClusterTest.poll(Duration.ofSeconds(15), map::isEmpty);
  }

  @Test
  @Order(2)
  void whatOneMemberRecordsTheOtherFindsAndTheMapHoldsNoSecret() throws Exception {
    HazelcastVerificationMemo onA = memo(hzA, SECRET);
    HazelcastVerificationMemo onB = memo(hzB, SECRET);
    HazelcastVerificationMemo otherSecret = memo(hzB, "another secret, also thirty-two bytes long".getBytes(StandardCharsets.US_ASCII));
    ReplicatedMap<String, String> map = hzB.getReplicatedMap(HazelcastSetup.MEMO_MAP);

    onA.record("carol", HASH, PASSWORD);
    TwoMemberClusterTest.poll(Duration.ofSeconds(5), () -> map.size() == 1);
    assertThat(matches(onB, "carol", PASSWORD)).isTrue();
    assertThat(matches(onB, "carol", "wrong")).isFalse();
    assertThat(matches(otherSecret, "carol", PASSWORD)).as("a node with another secret").isFalse();

    Map.Entry<String, String> e = Map.copyOf(map).entrySet().iterator().next();
    String stored = e.getKey() + " " + e.getValue();
    assertThat(stored).doesNotContain(new String(SECRET, StandardCharsets.US_ASCII))
        .doesNotContain(HexFormat.of().formatHex(SECRET)).doesNotContain(Base64.getEncoder().encodeToString(SECRET))
        .doesNotContain(PASSWORD).doesNotContain("carol").doesNotContain(HASH);

    onB.drop("carol");
    TwoMemberClusterTest.poll(Duration.ofSeconds(5), map::isEmpty);
    // A replicated map copies to each member on its own time: A's copy follows B's within the poll.
    TwoMemberClusterTest.poll(Duration.ofSeconds(5), () -> {
      try {
        return !matches(onA, "carol", PASSWORD);
      } catch (Exception notYet) {
        return false;
      }
    });
    assertThat(matches(onA, "carol", PASSWORD)).as("on member A after B dropped it").isFalse();
  }

  @Test
  @Order(3)
  void anEntrySurvivesTheMemberThatWroteIt() throws Exception {
    HazelcastVerificationMemo onA = memo(hzA, SECRET);
    ReplicatedMap<String, String> mapB = hzB.getReplicatedMap(HazelcastSetup.MEMO_MAP);
    // Ten users, so that some entries are owned by each member.
    for (int i = 0; i < 10; i++) {
      onA.record("user" + i, HASH, PASSWORD + i);
    }
    TwoMemberClusterTest.poll(Duration.ofSeconds(5), () -> mapB.size() == 10);
    hzA.getLifecycleService().terminate(); // no graceful hand-over: as with kill -9
    // Read at once, before B may even have noticed: B's own copy answers.
    HazelcastVerificationMemo onB = memo(hzB, SECRET);
    for (int i = 0; i < 10; i++) {
      assertThat(matches(onB, "user" + i, PASSWORD + i)).as("user%d after member A died", i).isTrue();
    }
  }
}
