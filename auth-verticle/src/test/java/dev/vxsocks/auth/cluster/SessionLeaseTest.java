package dev.vxsocks.auth.cluster;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.vxsocks.auth.cluster.TwoMemberClusterTest.cluster;
import static dev.vxsocks.auth.cluster.TwoMemberClusterTest.freePort;
import static dev.vxsocks.auth.cluster.TwoMemberClusterTest.poll;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Session limits with leases across three members (plain Hazelcast members in this JVM, TCP/IP join on 127.0.0.1,
 * multicast off): limits large enough that members lease blocks of slots, racing opens and closes on every member,
 * and what happens to a lease when its member goes away or stops using it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SessionLeaseTest {

  private static final String NAME = "lease-" + UUID.randomUUID();
  private static final List<HazelcastInstance> HZ = new ArrayList<>();
  private static Vertx vertx;
  private final List<HazelcastSessionLimiter> limiters = new ArrayList<>();

  @BeforeAll
  static void startThreeMembers() throws Exception {
    int[] ports = {freePort(), freePort(), freePort()};
    List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1], "127.0.0.1:" + ports[2]);
    for (int port : ports) {
      HZ.add(Hazelcast.newHazelcastInstance(HazelcastSetup.hazelcastConfig(cluster(NAME, port, members, true), false)));
    }
    poll(Duration.ofSeconds(30), () -> HZ.get(0).getCluster().getMembers().size() == 3);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    for (HazelcastInstance hz : HZ) {
      if (hz.getLifecycleService().isRunning()) {
        hz.getLifecycleService().terminate();
      }
    }
  }

  @AfterEach
  void stopLimiters() {
    limiters.forEach(HazelcastSessionLimiter::stop);
  }

  private HazelcastSessionLimiter limiter(HazelcastInstance hz) {
    HazelcastSessionLimiter l = new HazelcastSessionLimiter(vertx, hz, true, Duration.ofSeconds(10)).start();
    limiters.add(l);
    return l;
  }

  private List<HazelcastSessionLimiter> onEveryMember() {
    return HZ.stream().map(this::limiter).toList();
  }

  /**
   * Twenty clients per member, each opening and closing sessions of one user from one address 60 times (long
   * enough for several trims to return spare slots while the others open), for a
   * per-user limit of 30 and a per-address limit of 40 (so members lease blocks of several slots while the count is
   * low, and one slot at a time near the limit). The sessions granted and not yet closed are counted at every grant:
   * a lease that admitted more than the shared count allows would push that count past a limit.
   */
  @Test
  void racingOpensOnEveryMemberNeverExceedTheLimit() throws Exception {
    List<HazelcastSessionLimiter> ls = onEveryMember();
    int perUser = 30;
    int perIp = 40;
    AtomicInteger open = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    AtomicInteger granted = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    List<Future<Void>> clients = new ArrayList<>();
    for (HazelcastSessionLimiter l : ls) {
      for (int c = 0; c < 20; c++) {
        clients.add(client(l, "race", "192.0.2.7", perUser, perIp, 60, open, most, granted, refused));
      }
    }
    Future.join(clients).await(120, TimeUnit.SECONDS);
    assertThat(most.get()).as("sessions open at once").isLessThanOrEqualTo(perUser);
    assertThat(granted.get()).isGreaterThan(perUser);
    assertThat(refused.get()).isPositive();
    // Every session ended: the leases come back, idle ones by the trims.
    poll(Duration.ofSeconds(15), () -> ls.get(0).clusterCount("u:race") == 0 && ls.get(0).clusterCount("ip:192.0.2.7") == 0);
  }

  /** One client: {@code rounds} times open, hold a few milliseconds, close; counts what was open at each grant. */
  private static Future<Void> client(HazelcastSessionLimiter l, String user, String ip, int perUser, int perIp,
      int rounds, AtomicInteger open, AtomicInteger most, AtomicInteger granted, AtomicInteger refused) {
    Promise<Void> done = Promise.promise();
    vertx.runOnContext(v -> step(l, user, ip, perUser, perIp, rounds, open, most, granted, refused, done));
    return done.future();
  }

  private static void step(HazelcastSessionLimiter l, String user, String ip, int perUser, int perIp, int left,
      AtomicInteger open, AtomicInteger most, AtomicInteger granted, AtomicInteger refused, Promise<Void> done) {
    if (left == 0) {
      done.complete();
      return;
    }
    l.open(user, ip, perUser, perIp).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      if (ar.result() == null) {
        refused.incrementAndGet();
        vertx.setTimer(1 + ThreadLocalRandom.current().nextInt(3),
            t -> step(l, user, ip, perUser, perIp, left - 1, open, most, granted, refused, done));
        return;
      }
      granted.incrementAndGet();
      most.accumulateAndGet(open.incrementAndGet(), Math::max);
      vertx.setTimer(1 + ThreadLocalRandom.current().nextInt(5), t -> {
        open.decrementAndGet(); // before the slot is given back, so a grant it makes room for never counts twice
        l.close(ar.result());
        step(l, user, ip, perUser, perIp, left - 1, open, most, granted, refused, done);
      });
    });
  }

  /** Far from the limit a member admits from its lease: many sessions, few cluster calls. */
  @Test
  void farFromTheLimitSessionsAreAdmittedFromTheLease() throws Exception {
    HazelcastSessionLimiter l = limiter(HZ.get(0));
    List<String> leases = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      leases.add(l.open("bulk", "192.0.2.8", 100_000, 100_000).await(10, TimeUnit.SECONDS));
    }
    assertThat(leases).doesNotContainNull();
    assertThat(l.clusterCalls()).as("lease calls for 200 sessions on two keys").isLessThanOrEqualTo(10);
    assertThat(l.heldHere("u:bulk")).isGreaterThanOrEqualTo(200);
    leases.forEach(l::close);
    // Unused, the lease goes back within a few trim periods.
    poll(Duration.ofSeconds(10), () -> l.clusterCount("u:bulk") == 0 && l.clusterCount("ip:192.0.2.8") == 0
        && l.heldHere("u:bulk") == 0);
  }

  /**
   * A limit of 10 on three members: once the other members' sessions have ended, all ten sessions can be opened
   * through any one member at once (near the limit nobody keeps spare slots), and the eleventh is refused everywhere.
   */
  @Test
  void aSmallLimitIsReachedThroughAnyMember() throws Exception {
    List<HazelcastSessionLimiter> ls = onEveryMember();
    for (int i = 0; i < 2; i++) {
      String a = ls.get(0).open("small", "192.0.2.9", 10, 0).await(10, TimeUnit.SECONDS);
      String b = ls.get(1).open("small", "192.0.2.9", 10, 0).await(10, TimeUnit.SECONDS);
      ls.get(0).close(a);
      ls.get(1).close(b);
    }
    // The slots go back as the sessions end (one call each, on its way): none stays with A or B as a spare.
    poll(Duration.ofSeconds(10), () -> ls.get(0).clusterCount("u:small") == 0);
    assertThat(ls.get(0).heldHere("u:small") + ls.get(1).heldHere("u:small")).isZero();
    List<Future<String>> opens = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      opens.add(ls.get(2).open("small", "192.0.2.9", 10, 0));
    }
    List<String> leases = Future.all(opens).await(10, TimeUnit.SECONDS).<String>list();
    assertThat(leases).doesNotContainNull();
    for (HazelcastSessionLimiter l : ls) {
      assertThat(l.open("small", "192.0.2.9", 10, 0).await(10, TimeUnit.SECONDS)).isNull();
    }
    assertThat(ls.get(0).clusterCount("u:small")).isEqualTo(10);
    leases.forEach(ls.get(2)::close);
    poll(Duration.ofSeconds(10), () -> ls.get(0).clusterCount("u:small") == 0);
  }

  /**
   * A larger limit: two members hold leases with spare slots when a third wants every slot; it gets refused only
   * until the others' unused slots come back (a couple of trim periods), then reaches the limit exactly.
   */
  @Test
  void spareSlotsOfOtherMembersComeBackSoTheLimitIsReachable() throws Exception {
    List<HazelcastSessionLimiter> ls = onEveryMember();
    int limit = 60;
    String a = ls.get(0).open("spare", "192.0.2.10", limit, 0).await(10, TimeUnit.SECONDS);
    String b = ls.get(1).open("spare", "192.0.2.10", limit, 0).await(10, TimeUnit.SECONDS);
    assertThat(ls.get(0).heldHere("u:spare")).as("a block, not one slot").isGreaterThan(1);
    ls.get(0).close(a);
    ls.get(1).close(b);
    List<String> onC = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (onC.size() < limit && System.nanoTime() - deadline < 0) {
      String lease = ls.get(2).open("spare", "192.0.2.10", limit, 0).await(10, TimeUnit.SECONDS);
      if (lease != null) {
        onC.add(lease);
      } else {
        Thread.sleep(20);
      }
      assertThat(ls.get(2).clusterCount("u:spare")).isLessThanOrEqualTo(limit);
    }
    assertThat(onC).hasSize(limit);
    assertThat(ls.get(2).open("spare", "192.0.2.10", limit, 0).await(10, TimeUnit.SECONDS)).isNull();
    assertThat(ls.get(0).open("spare", "192.0.2.10", limit, 0).await(10, TimeUnit.SECONDS)).isNull();
    onC.forEach(ls.get(2)::close);
    poll(Duration.ofSeconds(10), () -> ls.get(0).clusterCount("u:spare") == 0);
  }

  /**
   * A member holding a lease (a few sessions and a block of spare slots) that leaves the cluster, gracefully or
   * killed: its whole lease stops counting, and the others can use every slot again.
   */
  @Test
  void aDepartedMembersWholeLeaseComesBack() throws Exception {
    for (boolean crash : new boolean[] {false, true}) {
      int port = freePort();
      List<String> members = new ArrayList<>();
      for (HazelcastInstance hz : HZ) {
        members.add("127.0.0.1:" + hz.getCluster().getLocalMember().getAddress().getPort());
      }
      members.add("127.0.0.1:" + port);
      HazelcastInstance extra = Hazelcast.newHazelcastInstance(
          HazelcastSetup.hazelcastConfig(cluster(NAME, port, members, true), false));
      try {
        poll(Duration.ofSeconds(30), () -> HZ.get(0).getCluster().getMembers().size() == 4);
        HazelcastSessionLimiter survivor = limiter(HZ.get(0));
        HazelcastSessionLimiter leaving = new HazelcastSessionLimiter(vertx, extra, true, Duration.ofSeconds(10));
        String key = "u:gone-" + crash;
        for (int i = 0; i < 3; i++) {
          assertThat(leaving.open("gone-" + crash, "192.0.2.11", 1000, 0).await(10, TimeUnit.SECONDS)).isNotNull();
        }
        assertThat(leaving.heldHere(key)).isGreaterThan(3);
        assertThat(survivor.clusterCount(key)).isEqualTo(leaving.heldHere(key));
        if (crash) {
          extra.getLifecycleService().terminate();
        } else {
          extra.shutdown();
        }
        poll(Duration.ofSeconds(15), () -> survivor.clusterCount(key) == 0);
        List<Future<String>> opens = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          opens.add(survivor.open("gone-" + crash, "192.0.2.11", 5, 0));
        }
        assertThat(Future.all(opens).await(10, TimeUnit.SECONDS).<String>list()).allMatch(Objects::nonNull);
      } finally {
        if (extra.getLifecycleService().isRunning()) {
          extra.getLifecycleService().terminate();
        }
        poll(Duration.ofSeconds(30), () -> HZ.get(0).getCluster().getMembers().size() == 3);
      }
    }
  }
}
