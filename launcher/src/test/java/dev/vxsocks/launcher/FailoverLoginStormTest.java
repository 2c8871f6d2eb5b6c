package dev.vxsocks.launcher;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.replicatedmap.ReplicatedMap;
import dev.vxsocks.auth.MemoSecret;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.RawClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Item 4 of the hardening issue, a login storm after a failover: two cluster nodes as processes of their own (joined
 * over TCP/IP on 127.0.0.1, multicast off), 200 users whose hashes cost what production's do
 * ({@link PasswordHash#DEFAULT_ITERATIONS}). All 200 log in through node 1, one user is given a new password with
 * {@code vxsocks user passwd}, node 1 is killed with SIGKILL, and all 200 log in at once through node 2: admitted
 * within 10 s, each from the verification memo (no slow hash on node 2), the changed password only in its new form.
 *
 * <p>The nodes run with the JIT a node gets from {@code java -jar} (the C1-only flag of {@link NodeProcess#JVM_FLAGS}
 * is left out: the slow hash is the subject here, and C1 makes it about five times slower). {@code
 * -Dstorm.memo=off} runs the same storm without the memo, for the README's comparison: it then reports how many
 * were admitted and when, and asserts only that the memo was not used.
 */
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class FailoverLoginStormTest {

  private static final int USERS = 200;
  private static final Duration STORM_BOUND = Duration.ofSeconds(10);
  private static final boolean MEMO = !"off".equals(System.getProperty("storm.memo"));
  private static final Path DIR = Path.of("target", "failover-storm-test");
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static final Pattern MEMO_HIT = Pattern.compile("matched the verification memo");

  @AfterAll
  static void stopNodes() throws Exception {
    NodeProcess.stopAll(nodes, Duration.ofSeconds(20));
  }

  @Test
  void twoHundredUsersOfAKilledNodeLogInOnTheOtherWithinTenSeconds() throws Exception {
    Files.createDirectories(DIR);
    for (String f : List.of("node-1.log", "node-2.log")) {
      Files.deleteIfExists(DIR.resolve(f));
    }
    // The secret: random, readable by its owner only, the same file for both nodes.
    byte[] random = new byte[48];
    new SecureRandom().nextBytes(random);
    String secretText = Base64.getEncoder().encodeToString(random);
    Path secretFile = DIR.resolve("memo.secret");
    Files.deleteIfExists(secretFile);
    Files.writeString(secretFile, secretText + "\n");
    Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("rw-------"));

    // 200 users (and user007's next password) at the production cost, in parallel. Users share their passwords ten by
    // ten: a hash is made once per password here (the setup's cost, not what is measured), while the nodes still
    // verify per user (a name is part of every check and of every memo entry).
    int iterations = Integer.getInteger("storm.iterations", PasswordHash.DEFAULT_ITERATIONS);
    String[] passwords = new String[USERS];
    String[] hashes = new String[USERS];
    String changed = "user007";
    String oldPassword;
    String newPassword = "new-" + UUID.randomUUID();
    String newHash;
    long t0 = System.nanoTime();
    ExecutorService hashing = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
    try {
      List<Future<String>> made = new ArrayList<>();
      int distinct = 10;
      String[] shared = new String[distinct];
      for (int k = 0; k < distinct; k++) {
        shared[k] = "pw-" + k + "-" + UUID.randomUUID();
        String pw = shared[k];
        made.add(hashing.submit(() -> PasswordHash.create(pw.toCharArray(), iterations).encoded()));
      }
      Future<String> next = hashing.submit(() -> PasswordHash.create(newPassword.toCharArray(), iterations).encoded());
      for (int i = 0; i < USERS; i++) {
        passwords[i] = shared[i % distinct];
        hashes[i] = made.get(i % distinct).get(600, TimeUnit.SECONDS);
      }
      newHash = next.get(600, TimeUnit.SECONDS);
    } finally {
      hashing.shutdownNow();
    }
    oldPassword = passwords[7];
    System.out.printf("storm: 11 hashes for %d users at %d iterations made in %d ms%n", USERS, iterations, ms(t0));

    int[] socks = {LoopbackTargets.freePort(), LoopbackTargets.freePort()};
    int[] hz = {LoopbackTargets.freePort(), LoopbackTargets.freePort()};
    String clusterName = "storm-" + UUID.randomUUID();
    Path config = DIR.resolve("cluster.yaml");
    Files.writeString(config, yaml(clusterName, hz, secretFile, hashes));
    for (int i = 0; i < 2; i++) {
      List<String> cmd = new ArrayList<>(NodeProcess.clusterMember(config, socks[i], hz[i], 0));
      cmd.remove("-XX:TieredStopAtLevel=1");
      cmd.addAll(List.of("--log-level", "FINE"));
      nodes.add(NodeProcess.start(cmd, Map.of(), DIR.resolve("node-" + (i + 1) + ".log")));
    }
    for (NodeProcess n : nodes) {
      assertThat(n.await(NodeProcess.LISTENING, Duration.ofSeconds(120))).as("started; log:%n%s", n.log()).isNotNull();
    }
    NodeProcess node1 = nodes.get(0);
    NodeProcess node2 = nodes.get(1);
    String fingerprint = MemoSecret.of(secretText.getBytes(StandardCharsets.US_ASCII)).fingerprint();
    if (MEMO) {
      assertThat(node1.log()).contains("secret fingerprint " + fingerprint);
      assertThat(node2.log()).contains("secret fingerprint " + fingerprint);
    } else {
      assertThat(node2.log()).contains("the verification memo is off");
    }

    // Everyone logs in through node 1, a few at a time: one slow hash each.
    t0 = System.nanoTime();
    ExecutorService few = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> first = new ArrayList<>();
      for (int i = 0; i < USERS; i++) {
        String name = name(i);
        String pw = passwords[i];
        first.add(few.submit(() -> login(socks[0], name, pw)));
      }
      for (int i = 0; i < USERS; i++) {
        assertThat(first.get(i).get(300, TimeUnit.SECONDS)).as("%s on node 1", name(i)).isZero();
      }
    } finally {
      few.shutdownNow();
    }
    System.out.printf("storm: %d users logged in through node 1 (4 at a time) in %d ms%n", USERS, ms(t0));

    ProxyConfig.Cluster cluster = ProxyConfig.fromJson(new JsonObject().put("cluster", new JsonObject()
        .put("enabled", true).put("name", clusterName).put("members", new JsonArray(List.of("127.0.0.1:" + hz[0], "127.0.0.1:" + hz[1])))))
        .cluster();
    MemoSecret secret = MemoSecret.fromFile(secretFile, "test");
    HazelcastInstance client = HazelcastClient.newHazelcastClient(HazelcastSetup.clientConfig(cluster, 20_000));
    try {
      ReplicatedMap<String, String> memo = client.getReplicatedMap(HazelcastSetup.MEMO_MAP);
      NodeProcess.poll(Duration.ofSeconds(10), () -> memo.size() == (MEMO ? USERS : 0));

      // user007 gets a new password: dropped from the memo, refused in its old form, accepted in its new one.
      String before = memo.get(secret.entryKey(changed));
      assertThat(before != null).isEqualTo(MEMO);
      assertThat(cli("user", "passwd", changed, "--hash", newHash, "--config", config.toString())).isZero();
      NodeProcess.poll(Duration.ofSeconds(5), () -> memo.get(secret.entryKey(changed)) == null);
      // Each try is a slow hash on node 1; the change reaches it within a second.
      NodeProcess.poll(Duration.ofSeconds(5), () -> login(socks[0], changed, oldPassword) != 0);
      assertThat(login(socks[0], changed, newPassword)).as("new password on node 1").isZero();
      if (MEMO) {
        NodeProcess.poll(Duration.ofSeconds(5), () -> memo.get(secret.entryKey(changed)) != null);
        assertThat(memo.get(secret.entryKey(changed))).isNotEqualTo(before);
      }

      // Nothing the cluster holds contains the secret.
      assertThat(String.valueOf(Map.copyOf(memo))).doesNotContain(secretText).doesNotContain(passwords[0]);
      for (String map : List.of(HazelcastSetup.USERS_MAP, HazelcastSetup.CONFIG_MAP)) {
        IMap<Object, Object> m = client.getMap(map);
        assertThat(String.valueOf(Map.copyOf(m))).as(map).doesNotContain(secretText).doesNotContain(passwords[0]);
      }
    } finally {
      client.shutdown();
    }
    passwords[7] = newPassword;

    // Node 1 dies; its users come to node 2 all at once.
    node1.process.destroyForcibly(); // SIGKILL
    assertThat(node1.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    int hitsBefore = count(MEMO_HIT, node2.log());
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService storm = Executors.newFixedThreadPool(USERS);
    long[] doneAt = new long[USERS];
    int[] status = new int[USERS];
    long start;
    try {
      List<Future<?>> all = new ArrayList<>();
      for (int i = 0; i < USERS; i++) {
        int u = i;
        all.add(storm.submit(() -> {
          go.await();
          status[u] = login(socks[1], name(u), passwords[u]);
          doneAt[u] = System.nanoTime();
          return null;
        }));
      }
      start = System.nanoTime();
      go.countDown();
      for (Future<?> f : all) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      storm.shutdownNow();
    }
    int admitted = 0;
    long last = 0;
    List<String> refused = new ArrayList<>();
    for (int i = 0; i < USERS; i++) {
      if (status[i] == 0) {
        admitted++;
        last = Math.max(last, doneAt[i] - start);
      } else {
        refused.add(name(i) + "=" + status[i]);
      }
    }
    int hits = count(MEMO_HIT, node2.log()) - hitsBefore;
    System.out.printf("storm: memo %s: %d of %d admitted through node 2, the last after %d ms; %d from the memo; "
        + "not admitted: %s%n", MEMO ? "on" : "off", admitted, USERS, TimeUnit.NANOSECONDS.toMillis(last), hits, refused);

    // The old password is refused on node 2 as well (no memo holds it), the new one accepted.
    assertThat(login(socks[1], changed, oldPassword)).as("old password on node 2").isNotZero();
    assertThat(login(socks[1], changed, newPassword)).as("new password on node 2").isZero();
    if (!MEMO) {
      assertThat(hits).isZero();
      return;
    }
    assertThat(admitted).as("admitted; refused: %s", refused).isEqualTo(USERS);
    assertThat(Duration.ofNanos(last)).isLessThan(STORM_BOUND);
    // A replicated map copies to each member on its own time: an entry recorded on node 1 just before the kill (user007's
    // new password, logged in last) may not have reached node 2's copy, and that one user pays the hash there.
    assertThat(hits).as("logins on node 2 served from the memo").isGreaterThanOrEqualTo(USERS - 1);
  }

  private static String yaml(String clusterName, int[] hz, Path secretFile, String[] hashes) {
    StringBuilder users = new StringBuilder();
    for (int i = 0; i < hashes.length; i++) {
      users.append("  - { name: ").append(name(i)).append(", password: \"").append(hashes[i]).append("\" }\n");
    }
    return String.join("\n",
        "listen: { host: 127.0.0.1, port: 1080 }",
        "auth: { methods: [username-password] }",
        "users:",
        users.toString(),
        "rules:",
        "  request:",
        "    - { action: allow, to: [\"127.0.0.1\"] }",
        "cluster:",
        "  enabled: true",
        "  name: " + clusterName,
        "  members: " + NodeProcess.members(hz),
        "  host: 127.0.0.1",
        "  port: " + hz[0],
        "  join-wait: 0s",
        MEMO ? "  memo-secret-file: " + secretFile.toAbsolutePath() : "",
        "drain: { grace: 0s, timeout: 1s }",
        "");
  }

  private static String name(int i) {
    return String.format("user%03d", i);
  }

  /** The RFC 1929 status (0: accepted), or -1 when the proxy closed without one. */
  private static int login(int port, String user, String password) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
      s.setSoTimeout(30_000);
      RawClient c = new RawClient(s);
      if (c.greet(2) != 2) {
        return -1;
      }
      return c.login(user, password);
    } catch (IOException e) {
      return -1;
    }
  }

  private static int count(Pattern p, String text) {
    Matcher m = p.matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  private static long ms(long since) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
  }

  private static int cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    System.out.println("cli " + String.join(" ", args) + " -> " + code + "\n" + out + err);
    return code;
  }
}
