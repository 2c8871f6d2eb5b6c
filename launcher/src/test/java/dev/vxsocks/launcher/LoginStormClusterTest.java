package dev.vxsocks.launcher;

import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.RawClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A login storm on a two-node cluster (two node JVMs, Hazelcast over TCP/IP on 127.0.0.1): for 20 s, four clients
 * from 127.0.0.3 send wrong passwords for alice in a loop (each at most every 20 ms), each attempt on the other node
 * than the last, while alice herself logs in from 127.0.0.2 once a second, also alternating. Her hash has the
 * production cost ({@link PasswordHash#DEFAULT_ITERATIONS}), and the nodes run with the JVM's default JIT, as a node
 * started with {@code java -jar} does, because the point is the CPU a storm costs; their heap holds the window's
 * garbage, so that no collection pause (up to 650 ms on this busy machine) is taken for the throttle's doing.
 *
 * <ul>
 *   <li>alice never waits more than 200 ms for her verdict (she logged in once on each node before the storm: her
 *       verification is remembered, and a remembered one costs no hash, nor waits behind the attackers');</li>
 *   <li>the attackers are throttled: one lockout line per lockout in the whole cluster, numbered 1, 2, 3... across the
 *       two nodes' logs (counted per node, each node would log its own lockout 1), and no more hashes than the
 *       thresholds allow per lockout;</li>
 *   <li>each node spends at most half a core over the window (its process's CPU time, /proc/PID/stat).</li>
 * </ul>
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LoginStormClusterTest {

  private static final Path DIR = Path.of("target", "login-storm-test");
  private static final String RIGHT = "alice-right-password";
  /** Failures of one name from one address that start a lockout; lockouts of 4 s, 8 s, 16 s, ... */
  private static final int PER_USER_AND_ADDRESS = 3;
  private static final int ATTACKERS = 4;
  private static final Duration WINDOW = Duration.ofSeconds(20);
  /**
   * Each attacker starts an attempt every 20 ms at most: 200 a second together, a storm that unthrottled would ask for
   * 200 hashes of about a third of a CPU second each, and a known rate, so the garbage of the window fits the node's
   * heap. Each refused attempt is still a whole SOCKS session for the node (accept, greeting, two event-bus
   * questions, the session line: about 1.5 ms of CPU here), so at 400 a second the refusals alone took a third of a
   * core per node and the total came to 40-50 %: that is the proxy's cost per session, not the throttle's.
   */
  private static final long ATTEMPT_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
  /** Attempts per attacker at most (a bound besides the window's end). */
  private static final int MAX_ATTEMPTS = 2_000;
  private static final Pattern LOCKOUT = Pattern.compile(
      "user \"alice\" from 127\\.0\\.0\\.3 locked out for (\\w+) \\(lockout (\\d+)\\)");
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static final int[] socksPorts = new int[2];

  @BeforeAll
  static void startTwoNodes() throws Exception {
    Files.createDirectories(DIR);
    int[] hzPorts = new int[2];
    for (int i = 0; i < 2; i++) {
      Files.deleteIfExists(DIR.resolve("node-" + i + ".log"));
      socksPorts[i] = LoopbackTargets.freePort();
      hzPorts[i] = LoopbackTargets.freePort();
    }
    String hash = PasswordHash.create(RIGHT.toCharArray(), PasswordHash.DEFAULT_ITERATIONS).encoded();
    Path config = DIR.resolve("cluster.yaml");
    Files.writeString(config, String.join("\n",
        "listen: { host: 127.0.0.1, port: 1080 }",
        "auth:",
        "  methods: [username-password]",
        "  throttle: { failures-per-client-ip: 100, failures-per-user-and-client-ip: " + PER_USER_AND_ADDRESS
            + ", window: 1m, backoff: 4s, backoff-max: 1m }",
        "users:",
        "  - { name: alice, password: \"" + hash + "\" }",
        "rules:",
        "  request:",
        "    - { action: allow, to: [\"127.0.0.1\"] }",
        "cluster:",
        "  enabled: true",
        "  name: storm-" + UUID.randomUUID(),
        "  members: " + NodeProcess.members(hzPorts),
        "  host: 127.0.0.1",
        "  join-wait: 0s",
        "drain: { grace: 0s, timeout: 1s }",
        ""));
    for (int i = 0; i < 2; i++) {
      nodes.add(startNode(config, i, hzPorts[i]));
    }
    // Both in one cluster: alice (a cluster-wide user) logs in on each, which also puts her verification in each
    // node's cache.
    for (int port : socksPorts) {
      NodeProcess.poll(Duration.ofSeconds(60), () -> login(port, "127.0.0.2", RIGHT).status() == 0);
    }
    NodeProcess.poll(Duration.ofSeconds(30), () -> nodes.get(1).log().contains(" of 2"));
  }

  /**
   * Node {@code i}, listening. Its SOCKS port was free when picked, but another process on this busy machine may take
   * it before the node binds it (an outgoing connection's ephemeral port): then it starts again on another (3 tries).
   */
  private static NodeProcess startNode(Path config, int i, int hzPort) throws Exception {
    for (int attempt = 1; ; attempt++) {
      List<String> command = new ArrayList<>(NodeProcess.clusterMember(config, socksPorts[i], hzPort, 0));
      // The JIT a node run with java -jar has: C1-only code would make each hash several times dearer.
      command.remove("-XX:TieredStopAtLevel=1");
      // Room for the whole window's garbage, so that no collection falls in it (GC.run empties the heap just before):
      // on this busy machine a young collection of the fixtures' 256 MB heap paused a node for up to 650 ms, and a
      // metaspace-triggered full one for 430 ms, which is not what this test measures. Collections are logged.
      command.remove("-Xmx256m");
      command.addAll(1, List.of("-Xmx1536m", "-Xmn1g", "-XX:MetaspaceSize=256m", "-Xlog:gc:stdout"));
      NodeProcess node = NodeProcess.start(command, Map.of(), DIR.resolve("node-" + i + ".log"));
      node.await(NodeProcess.LISTENING, Duration.ofSeconds(120));
      if (node.process.isAlive()) {
        return node;
      }
      node.close();
      assertThat(node.log()).as("node %d ended before listening", i).contains("address already in use");
      assertThat(attempt).as("tries for node %d", i).isLessThan(3);
      socksPorts[i] = LoopbackTargets.freePort();
    }
  }

  /** {@code jcmd PID GC.run}: a full collection of the node, now rather than during the window. */
  private static void gcRun(NodeProcess node) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    Process p = NodeProcess.killedOnExit(new ProcessBuilder(jcmd, Long.toString(node.process.pid()), "GC.run")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("jcmd GC.run done").isTrue();
  }

  @AfterAll
  static void stopNodes() throws Exception {
    NodeProcess.stopAll(nodes, Duration.ofSeconds(20));
  }

  /** One login's RFC 1929 status (-1: closed without one) and how long the verdict took after the credentials. */
  record Attempt(int status, long nanos, long startedAt) {
  }

  /**
   * A thread of the test JVM that sleeps 2 ms in a loop and notes every wake-up more than 10 ms late: stalls the
   * machine imposes on any process (here a load average far above the cores, from work outside this test), which
   * delay a client and the nodes alike whatever the throttle does. Bounded: it stops when closed, or after 5 minutes.
   */
  static final class StallProbe implements AutoCloseable {
    private final java.util.Queue<long[]> stalls = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    private final Thread thread = new Thread(this::run, "stall-probe");

    StallProbe() {
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (!closed && System.nanoTime() - end < 0) {
        long before = System.nanoTime();
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          return;
        }
        long after = System.nanoTime();
        if (after - before > TimeUnit.MILLISECONDS.toNanos(12)) {
          stalls.add(new long[] {before, after});
        }
      }
    }

    /** The longest stall (beyond the 2 ms asked for) that overlapped {@code from}..{@code to}, in nanoseconds. */
    long worstWithin(long from, long to) {
      long worst = 0;
      for (long[] s : stalls) {
        if (s[0] < to && s[1] > from) {
          worst = Math.max(worst, s[1] - s[0] - TimeUnit.MILLISECONDS.toNanos(2));
        }
      }
      return worst;
    }

    @Override
    public void close() throws InterruptedException {
      closed = true;
      thread.join(5000);
    }
  }

  static Attempt login(int port, String from, String password) {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(from, 0));
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setSoTimeout(30_000);
      RawClient c = new RawClient(s);
      if (c.greet(2) != 2) {
        return new Attempt(-1, 0, 0);
      }
      long start = System.nanoTime();
      int status = c.login("alice", password);
      return new Attempt(status, System.nanoTime() - start, start);
    } catch (IOException e) {
      return new Attempt(-1, 0, 0);
    }
  }

  @Test
  void aStormOfWrongPasswordsIsThrottledClusterWideWithoutHoldingUpTheOwnerOrEatingTheNodes() throws Exception {
    // Warm-up, outside the window: the refusal path and the hash compiled on both nodes, from an address of its own.
    long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
    for (int i = 0; i < 2000 && System.nanoTime() - warm < 0; i++) {
      login(socksPorts[i % 2], "127.0.0.9", "warm-up-" + i);
    }
    for (NodeProcess node : nodes) {
      gcRun(node);
    }
    ExecutorService pool = Executors.newFixedThreadPool(ATTACKERS);
    AtomicInteger attempts = new AtomicInteger();
    AtomicInteger unanswered = new AtomicInteger();
    long[] cpuBefore = {nodes.get(0).cpuNanos(), nodes.get(1).cpuNanos()};
    long start = System.nanoTime();
    long end = start + WINDOW.toNanos();
    List<Future<?>> attackers = new ArrayList<>();
    for (int a = 0; a < ATTACKERS; a++) {
      int attacker = a;
      attackers.add(pool.submit(() -> {
        for (int i = 0; i < MAX_ATTEMPTS && System.nanoTime() - end < 0; i++) {
          long due = start + i * ATTEMPT_EVERY_NANOS;
          long early = due - System.nanoTime();
          if (early > 0) {
            try {
              Thread.sleep(TimeUnit.NANOSECONDS.toMillis(early));
            } catch (InterruptedException e) {
              return;
            }
          }
          Attempt r = login(socksPorts[(attacker + i) % 2], "127.0.0.3", "guess-" + attacker + "-" + i);
          attempts.incrementAndGet();
          if (r.status() != 1) {
            unanswered.incrementAndGet();
          }
        }
      }));
    }
    List<Long> ownerWaits = new ArrayList<>();
    List<Long> machineStalls = new ArrayList<>();
    List<Integer> ownerStatus = new ArrayList<>();
    StallProbe probe = new StallProbe();
    for (int second = 0; second < WINDOW.toSeconds(); second++) {
      long due = start + TimeUnit.SECONDS.toNanos(second);
      long sleep = due - System.nanoTime();
      if (sleep > 0) {
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(sleep));
      }
      Attempt r = login(socksPorts[second % 2], "127.0.0.2", RIGHT);
      ownerStatus.add(r.status());
      ownerWaits.add(TimeUnit.NANOSECONDS.toMillis(r.nanos()));
      machineStalls.add(TimeUnit.NANOSECONDS.toMillis(probe.worstWithin(r.startedAt(), r.startedAt() + r.nanos())));
    }
    for (Future<?> f : attackers) {
      f.get(60, TimeUnit.SECONDS);
    }
    long wall = System.nanoTime() - start;
    long[] cpu = {nodes.get(0).cpuNanos() - cpuBefore[0], nodes.get(1).cpuNanos() - cpuBefore[1]};
    pool.shutdownNow();
    probe.close();

    // What the nodes did with the attackers' attempts (each session's summary line says how its login ended).
    Map<String, Integer> outcomes = new TreeMap<>();
    Map<Integer, String> lockouts = new TreeMap<>();
    int[] throttledPerNode = new int[2];
    for (int n = 0; n < 2; n++) {
      String log = nodes.get(n).log();
      Matcher m = Pattern.compile("client=127\\.0\\.0\\.3:\\d+ .*close=\"auth failed: ([\\w-]+)\"").matcher(log);
      while (m.find()) {
        outcomes.merge(m.group(1), 1, Integer::sum);
        throttledPerNode[n] += m.group(1).equals("throttled") ? 1 : 0;
      }
      Matcher l = LOCKOUT.matcher(log);
      while (l.find()) {
        String before = lockouts.put(Integer.parseInt(l.group(2)), "node " + n + ": " + l.group(1));
        assertThat(before).as("lockout %s logged once in the cluster", l.group(2)).isNull();
      }
    }
    int hashed = outcomes.getOrDefault("bad-credentials", 0);
    System.out.printf("window %.1f s: %d attempts (%d unanswered), outcomes %s, lockouts %s%n"
            + "owner waits (ms) %s%nmachine stalls meanwhile (ms) %s%n"
            + "node CPU: %.2f s and %.2f s (%.0f%% and %.0f%% of a core)%n",
        wall / 1e9, attempts.get(), unanswered.get(), outcomes, lockouts, ownerWaits, machineStalls, cpu[0] / 1e9,
        cpu[1] / 1e9,
        100.0 * cpu[0] / wall, 100.0 * cpu[1] / wall);

    assertThat(ownerStatus).as("alice logged in every second").containsOnly(0).hasSize((int) WINDOW.toSeconds());
    for (int i = 0; i < ownerWaits.size(); i++) {
      // 200 ms, plus only what the machine stalled every process by meanwhile (0 unless it was overloaded).
      assertThat(ownerWaits.get(i)).as("alice's wait for her verdict at second %d (ms); the machine stalled %d ms"
          + " meanwhile", i, machineStalls.get(i)).isLessThanOrEqualTo(200 + machineStalls.get(i));
    }

    assertThat(unanswered.get()).as("every attempt was answered 01 01").isZero();
    assertThat(lockouts.keySet()).as("lockouts 1, 2, ... each once in the cluster").isNotEmpty()
        .isEqualTo(new java.util.TreeSet<>(java.util.stream.IntStream.rangeClosed(1, lockouts.size()).boxed().toList()));
    assertThat(lockouts.size()).as("lockouts of 4 s and 8 s fit in 20 s").isGreaterThanOrEqualTo(2);
    assertThat(throttledPerNode[0]).as("node 0 refuses the attackers").isPositive();
    assertThat(throttledPerNode[1]).as("node 1 refuses the attackers").isPositive();
    // Per lockout, the threshold's failures plus the attempts already under way when it began (one per other
    // attacker), and one more round for the lockout the window may end in.
    assertThat(hashed).as("wrong passwords actually checked").isLessThanOrEqualTo(
        (PER_USER_AND_ADDRESS + ATTACKERS - 1) * (lockouts.size() + 1));
    assertThat(attempts.get()).as("the attackers kept trying").isGreaterThan(10 * hashed);

    for (int n = 0; n < 2; n++) {
      assertThat(cpu[n]).as("node %d's CPU over the window: %.2f s of %.1f s", n, cpu[n] / 1e9, wall / 1e9)
          .isLessThanOrEqualTo(wall / 2);
    }
  }
}
