package dev.vxsocks.auth.cluster;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.vxsocks.auth.AuthVerticle;
import dev.vxsocks.auth.InMemoryUserStore;
import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.auth.api.AuthUnavailableException;
import dev.vxsocks.config.ConfigException;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.ProxyConfig.User;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two clustered Vert.x instances in this JVM, joined over TCP/IP on 127.0.0.1 with multicast off (never through
 * RunTestOnContext, which would fall back to multicast), under a cluster name of their own so nothing else on the
 * machine can join. Waits poll with a deadline taken from the bounds (1 s for users, 10 s for a departed
 * member).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TwoMemberClusterTest {

  /** Password "wonderland", 1000 iterations. */
  static final String ALICE_HASH = "$pbkdf2-sha256$i=1000$EBESExQVFhcYGRobHB0eHw$ykMxUYVFttwNeFlvN0rcBGMjuWA8fzmn8wsfLr8Auog";

  private static final String NAME = "test-" + UUID.randomUUID();
  private static int portA;
  private static int portB;
  private static Vertx vertxA;
  private static Vertx vertxB;
  private static HazelcastInstance hzA;
  private static HazelcastInstance hzB;

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static ProxyConfig.Cluster cluster(String name, int port, List<String> members, boolean refuse) {
    JsonObject c = new JsonObject().put("enabled", true).put("name", name).put("join", "tcp")
        .put("members", new JsonArray(members)).put("host", "127.0.0.1").put("port", port)
        .put("join-wait", "0s").put("store-unreachable", refuse ? "refuse" : "allow").put("store-timeout", "1s");
    return ProxyConfig.fromJson(new JsonObject().put("cluster", c)).cluster();
  }

  @BeforeAll
  static void startTwoMembers() throws Exception {
    portA = freePort();
    portB = freePort();
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

  static void poll(Duration within, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("condition not met within " + within);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void perUserLimitIsExactAcrossMembers() throws Exception {
    HazelcastSessionLimiter la = new HazelcastSessionLimiter(vertxA, hzA, true, Duration.ofSeconds(5)).start();
    HazelcastSessionLimiter lb = new HazelcastSessionLimiter(vertxB, hzB, true, Duration.ofSeconds(5)).start();
    try {
      List<Future<String>> opens = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        HazelcastSessionLimiter l = i % 2 == 0 ? la : lb;
        opens.add(l.open("race", "127.0.0." + (1 + i % 3), 3, 0));
      }
      Future.join(opens).await(30, TimeUnit.SECONDS);
      List<String> granted = opens.stream().map(Future::result).filter(Objects::nonNull).toList();
      assertThat(granted).hasSize(3);
      assertThat(la.clusterCount("u:race")).isEqualTo(3);
      // Closing a lease frees its slot: the lease came from whichever limiter granted it.
      int ia = indexOfGranted(opens);
      (ia % 2 == 0 ? la : lb).close(opens.get(ia).result());
      poll(Duration.ofSeconds(5), () -> la.clusterCount("u:race") == 2);
      assertThat(lb.open("race", "127.0.0.9", 3, 0).await(10, TimeUnit.SECONDS)).isNotNull();
      assertThat(la.open("race", "127.0.0.9", 3, 0).await(10, TimeUnit.SECONDS)).isNull();
    } finally {
      la.stop();
      lb.stop();
    }
  }

  private static int indexOfGranted(List<Future<String>> opens) {
    for (int i = 0; i < opens.size(); i++) {
      if (opens.get(i).result() != null) {
        return i;
      }
    }
    throw new AssertionError("nothing granted");
  }

  @Test
  void bothLimitsOrNeither() throws Exception {
    HazelcastSessionLimiter la = new HazelcastSessionLimiter(vertxA, hzA, true, Duration.ofSeconds(5)).start();
    try {
      String first = la.open("both", "10.9.9.9", 5, 1).await(10, TimeUnit.SECONDS);
      assertThat(first).isNotNull();
      // The IP limit refuses; the user slot taken on the way must be given back.
      assertThat(la.open("both", "10.9.9.9", 5, 1).await(10, TimeUnit.SECONDS)).isNull();
      poll(Duration.ofSeconds(5), () -> la.clusterCount("u:both") == 1);
      la.close(first);
      poll(Duration.ofSeconds(5), () -> la.clusterCount("u:both") == 0 && la.clusterCount("ip:10.9.9.9") == 0);
    } finally {
      la.stop();
    }
  }

  /** With a 1 ms store timeout most opens give up before the answer; a slot granted late must not stay counted. */
  @Test
  void slotsGrantedAfterTheTimeoutAreGivenBack() throws Exception {
    HazelcastSessionLimiter impatient = new HazelcastSessionLimiter(vertxB, hzB, true, Duration.ofMillis(1));
    HazelcastSessionLimiter la = new HazelcastSessionLimiter(vertxA, hzA, true, Duration.ofSeconds(5));
    List<Future<String>> opens = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      opens.add(impatient.open("late-" + i, "127.0.0.1", 1, 0));
    }
    Future.join(opens).otherwiseEmpty().await(30, TimeUnit.SECONDS);
    assertThat(opens).anyMatch(Future::failed);
    for (Future<String> f : opens) {
      if (f.succeeded() && f.result() != null) {
        impatient.close(f.result());
      }
    }
    poll(Duration.ofSeconds(5), () -> {
      for (int i = 0; i < 20; i++) {
        if (la.clusterCount("u:late-" + i) != 0) {
          return false;
        }
      }
      return true;
    });
  }

  @Test
  void sweepRemovesTheShareOfMembersAlreadyGone() throws Exception {
    IMap<String, HashMap<String, Integer>> map = hzA.getMap(HazelcastSetup.SESSIONS_MAP);
    HashMap<String, Integer> shares = new HashMap<>();
    shares.put(UUID.randomUUID().toString(), 4);
    shares.put(hzB.getCluster().getLocalMember().getUuid().toString(), 1);
    map.put("u:ghost", shares);
    HazelcastSessionLimiter la = new HazelcastSessionLimiter(vertxA, hzA, true, Duration.ofSeconds(5)).start();
    try {
      assertThat(la.clusterCount("u:ghost")).isEqualTo(1);
    } finally {
      la.stop();
      map.remove("u:ghost");
    }
  }

  @Test
  void departedMemberShareStopsCounting() throws Exception {
    // A third member in this JVM (plain Hazelcast) holds two sessions, then is terminated like a crash.
    int portC = freePort();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portC);
    HazelcastInstance hzC = Hazelcast.newHazelcastInstance(
        HazelcastSetup.hazelcastConfig(cluster(NAME, portC, members, true), false));
    HazelcastSessionLimiter la = new HazelcastSessionLimiter(vertxA, hzA, true, Duration.ofSeconds(5)).start();
    try {
      HazelcastSessionLimiter lc = new HazelcastSessionLimiter(vertxA, hzC, true, Duration.ofSeconds(5));
      assertThat(lc.open("crash", "127.0.0.1", 2, 0).await(10, TimeUnit.SECONDS)).isNotNull();
      assertThat(lc.open("crash", "127.0.0.1", 2, 0).await(10, TimeUnit.SECONDS)).isNotNull();
      assertThat(la.open("crash", "127.0.0.1", 2, 0).await(10, TimeUnit.SECONDS)).isNull();
      hzC.getLifecycleService().terminate();
      poll(Duration.ofSeconds(10), () -> la.clusterCount("u:crash") == 0);
      assertThat(la.open("crash", "127.0.0.1", 2, 0).await(10, TimeUnit.SECONDS)).isNotNull();
    } finally {
      la.stop();
      if (hzC.getLifecycleService().isRunning()) {
        hzC.getLifecycleService().terminate();
      }
    }
  }

  /**
   * What a merge leaves (the merging side's entries discarded, so this member's share is gone) is repaired from the
   * member's own record of its slots; restoring twice changes nothing, and slots closed afterwards come off the
   * restored share.
   */
  @Test
  void restorePutsBackExactlyTheSlotsThisMemberHolds() throws Exception {
    HazelcastSessionLimiter la = new HazelcastSessionLimiter(vertxA, hzA, true, Duration.ofSeconds(5)).start();
    HazelcastSessionLimiter lb = new HazelcastSessionLimiter(vertxB, hzB, true, Duration.ofSeconds(5)).start();
    IMap<String, HashMap<String, Integer>> map = hzA.getMap(HazelcastSetup.SESSIONS_MAP);
    try {
      List<String> leases = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        leases.add(la.open("merged", "127.0.0.1", 5, 0).await(10, TimeUnit.SECONDS));
      }
      String onB = lb.open("merged", "127.0.0.1", 5, 0).await(10, TimeUnit.SECONDS);
      assertThat(leases).doesNotContainNull();
      assertThat(onB).isNotNull();
      assertThat(la.heldHere("u:merged")).isEqualTo(3);
      // A's share lost, as when its side's entries are discarded in a merge.
      HashMap<String, Integer> shares = map.get("u:merged");
      shares.remove(hzA.getCluster().getLocalMember().getUuid().toString());
      map.put("u:merged", shares);
      assertThat(la.clusterCount("u:merged")).isEqualTo(1);
      assertThat(la.restore()).isEqualTo(3);
      assertThat(la.clusterCount("u:merged")).isEqualTo(4);
      assertThat(la.restore()).isEqualTo(3);
      assertThat(la.clusterCount("u:merged")).isEqualTo(4);
      la.close(leases.get(0));
      poll(Duration.ofSeconds(5), () -> la.clusterCount("u:merged") == 3 && la.heldHere("u:merged") == 2);
      la.close(leases.get(1));
      la.close(leases.get(2));
      lb.close(onB);
      poll(Duration.ofSeconds(5), () -> la.clusterCount("u:merged") == 0 && la.heldHere("u:merged") == 0);
    } finally {
      la.stop();
      lb.stop();
      map.remove("u:merged");
    }
  }

  @Test
  void unreachableStoreRefusesOrAllowsAsConfigured() throws Exception {
    int port = freePort();
    HazelcastInstance lone = Hazelcast.newHazelcastInstance(HazelcastSetup.hazelcastConfig(
        cluster("lone-" + UUID.randomUUID(), port, List.of("127.0.0.1:" + port), true), false));
    HazelcastSessionLimiter refuse = new HazelcastSessionLimiter(vertxA, lone, true, Duration.ofMillis(500));
    HazelcastSessionLimiter allow = new HazelcastSessionLimiter(vertxA, lone, false, Duration.ofMillis(500));
    assertThat(refuse.open("u", "127.0.0.1", 1, 0).await(10, TimeUnit.SECONDS)).isNotNull();
    lone.getLifecycleService().terminate();
    assertThatThrownBy(() -> refuse.open("u", "127.0.0.1", 1, 0).await(10, TimeUnit.SECONDS))
        .hasMessageContaining("cluster session store unreachable");
    String lease = allow.open("u", "127.0.0.1", 1, 0).await(10, TimeUnit.SECONDS);
    assertThat(lease).isNotNull();
    allow.close(lease);
    // Unlimited sessions never touch the store, so they pass whatever its state.
    assertThat(refuse.open("u", "127.0.0.1", 0, 0).await(10, TimeUnit.SECONDS)).isNotNull();
  }

  /** Through the auth verticle: the proxy gets an AuthUnavailableException, which it answers with 0x01. */
  @Test
  void refusedOpenReachesTheProxyAsAnInfrastructureFailure() throws Exception {
    int port = freePort();
    HazelcastInstance lone = Hazelcast.newHazelcastInstance(HazelcastSetup.hazelcastConfig(
        cluster("lone-" + UUID.randomUUID(), port, List.of("127.0.0.1:" + port), true), false));
    Vertx plain = Vertx.vertx();
    try {
      ProxyConfig config = ProxyConfig.fromJson(new JsonObject().put("limits", new JsonObject().put("sessions-per-user", 1)));
      HazelcastSessionLimiter limiter = new HazelcastSessionLimiter(plain, lone, true, Duration.ofMillis(500));
      plain.deployVerticle(new AuthVerticle(config, new InMemoryUserStore(List.of()), limiter)).await(10, TimeUnit.SECONDS);
      AuthClient client = new AuthClient(plain, Duration.ofSeconds(10));
      assertThat(client.openSession("u", "127.0.0.1").await(10, TimeUnit.SECONDS).allowed()).isTrue();
      lone.getLifecycleService().terminate();
      assertThatThrownBy(() -> client.openSession("u", "127.0.0.1").await(10, TimeUnit.SECONDS))
          .isInstanceOf(AuthUnavailableException.class).hasMessageContaining("cluster session store unreachable");
    } finally {
      plain.close().await(10, TimeUnit.SECONDS);
      if (lone.getLifecycleService().isRunning()) {
        lone.getLifecycleService().terminate();
      }
    }
  }

  /** As in a cluster just started: no users and nobody has filled the users map yet. */
  private static void newClusterUsers() {
    hzA.getMap(HazelcastSetup.USERS_MAP).clear();
    hzA.getMap(HazelcastSetup.CONFIG_MAP).remove(SharedConfig.USERS_SEEDED);
  }

  @Test
  void userChangesReachTheOtherMemberAndRevoke() throws Exception {
    newClusterUsers();
    PasswordHash hash = PasswordHash.parse("t", ALICE_HASH);
    HazelcastUserStore sa = new HazelcastUserStore(hzA).start(List.of(new User("seeded", hash, true)));
    HazelcastUserStore sb = new HazelcastUserStore(hzB).start(List.of());
    Map<String, Boolean> seenByB = new ConcurrentHashMap<>();
    sb.listen(seenByB::put);
    try {
      assertThat(sb.find("seeded").await(5, TimeUnit.SECONDS)).isNotNull();
      UserAdmin admin = new UserAdmin(hzA);
      assertThat(admin.add("bob", hash)).isTrue();
      assertThat(admin.add("bob", hash)).isFalse();
      poll(Duration.ofSeconds(1), () -> sb.find("bob").result() != null);
      assertThat(seenByB).containsEntry("bob", false);
      assertThat(admin.setEnabled("bob", false)).isTrue();
      poll(Duration.ofSeconds(1), () -> !sb.find("bob").result().enabled());
      assertThat(seenByB).containsEntry("bob", true);
      // A node restarting with a file that still lists the user enabled does not undo the change.
      new HazelcastUserStore(hzB).start(List.of(new User("bob", hash, true))).stop();
      assertThat(admin.list()).filteredOn(u -> u.name().equals("bob")).singleElement()
          .satisfies(u -> assertThat(u.enabled()).isFalse());
      assertThat(admin.remove("bob")).isTrue();
      poll(Duration.ofSeconds(1), () -> sb.find("bob").result() == null);
    } finally {
      sa.stop();
      sb.stop();
    }
  }

  @Test
  void onlyTheFirstStartFillsTheUsersAndARestartNeverReAddsOrReEnables() throws Exception {
    newClusterUsers();
    PasswordHash hash = PasswordHash.parse("t", ALICE_HASH);
    PasswordHash other = PasswordHash.create("other".toCharArray(), PasswordHash.MIN_ITERATIONS);
    List<User> file = List.of(new User("alice", hash, true), new User("dave", hash, true),
        new User("erin", hash, true));
    new HazelcastUserStore(hzA).start(file).stop();
    UserAdmin admin = new UserAdmin(hzA);
    assertThat(admin.list()).extracting(User::name).containsExactly("alice", "dave", "erin");
    // Revoked at runtime: alice disabled, dave removed, erin given a new password.
    assertThat(admin.setEnabled("alice", false)).isTrue();
    assertThat(admin.remove("dave")).isTrue();
    assertThat(admin.passwd("erin", other)).isTrue();
    // Both members restart with the old file, and a file with one more user: nothing changes.
    List<User> more = new java.util.ArrayList<>(file);
    more.add(new User("frank", hash, true));
    new HazelcastUserStore(hzB).start(file).stop();
    new HazelcastUserStore(hzA).start(more).stop();
    Map<String, User> now = admin.users();
    assertThat(now.keySet()).containsExactly("alice", "erin");
    assertThat(now.get("alice").enabled()).isFalse();
    assertThat(now.get("erin").password().encoded()).isEqualTo(other.encoded());
    // A cluster filled by a version before the mark existed (users, no mark): the file is not added either.
    hzA.getMap(HazelcastSetup.CONFIG_MAP).remove(SharedConfig.USERS_SEEDED);
    new HazelcastUserStore(hzB).start(more).stop();
    assertThat(admin.users().keySet()).containsExactly("alice", "erin");
    assertThat(hzA.getMap(HazelcastSetup.CONFIG_MAP).get(SharedConfig.USERS_SEEDED)).isNotNull();
  }

  @Test
  void anApplyWorkedOutFromAnOlderEntryChangesNothing() throws Exception {
    newClusterUsers();
    PasswordHash hash = PasswordHash.parse("t", ALICE_HASH);
    new HazelcastUserStore(hzA).start(List.of(new User("gina", hash, true))).stop();
    UserAdmin admin = new UserAdmin(hzA);
    assertThat(admin.setEnabled("gina", false)).isTrue();
    List<UserChanges.Change> plan = UserChanges.between(
        List.of(new User("gina", hash, true), new User("hal", hash, true)), admin.users());
    assertThat(plan).extracting(UserChanges.Change::name).containsExactly("gina", "hal");
    // Between the plan and its application, someone else changes both.
    assertThat(admin.passwd("gina", PasswordHash.create("x".toCharArray(), PasswordHash.MIN_ITERATIONS))).isTrue();
    assertThat(admin.add("hal", PasswordHash.create("y".toCharArray(), PasswordHash.MIN_ITERATIONS))).isTrue();
    assertThat(plan).noneMatch(admin::apply);
    assertThat(admin.users().get("gina").enabled()).isFalse();
    assertThat(admin.users().get("hal").password().encoded()).isNotEqualTo(hash.encoded());
    // Worked out afresh, it applies.
    assertThat(UserChanges.between(List.of(new User("gina", hash, true)), admin.users()))
        .filteredOn(c -> !c.onlyInCluster()).singleElement().matches(admin::apply);
    assertThat(admin.users().get("gina")).satisfies(u -> {
      assertThat(u.enabled()).isTrue();
      assertThat(u.password().encoded()).isEqualTo(hash.encoded());
    });
  }

  @Test
  void sharedConfigReachesTheOtherMemberAndInvalidOnesAreRefused() throws Exception {
    SharedConfig ca = new SharedConfig(hzA);
    SharedConfig cb = new SharedConfig(hzB);
    Map<String, String> got = new ConcurrentHashMap<>();
    cb.watch((v, err) -> got.put("version", v == null ? "error" : v.version()));
    try {
      JsonObject good = new JsonObject().put("limits", new JsonObject().put("sessions-per-user", 7));
      String version = ca.publish(good);
      poll(Duration.ofSeconds(5), () -> version.equals(got.get("version")));
      assertThat(cb.current().config().limits().sessionsPerUser()).isEqualTo(7);
      JsonObject bad = new JsonObject().put("limits", new JsonObject().put("sessions-per-user", -1));
      assertThatThrownBy(() -> ca.publish(bad)).isInstanceOf(ConfigException.class);
      assertThat(cb.current().version()).isEqualTo(version);
      cb.reportRunning(version);
      assertThat(ca.running()).containsValue(version);
    } finally {
      cb.stop();
    }
  }
}
