package dev.vxsocks.launcher;

import dev.vxsocks.config.PasswordHash;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.vxsocks.launcher.NodeProcess.JVM_FLAGS;
import static dev.vxsocks.testing.LoopbackTargets.freePort;
import static dev.vxsocks.launcher.NodeProcess.poll;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Split brains and merges with two node JVMs, A and B. A node is suspended with SIGSTOP past a short heartbeat
 * timeout, so the other removes it and drops its share of the session counts; sessions end on the surviving side
 * meanwhile; the node is resumed with SIGCONT, finds itself outside the other's cluster, and the two merge back.
 * After each merge the per-user count must equal the sessions really open (no share lost on either side): exactly
 * the free slots are admitted, through both nodes, then the limit refuses. Once every session is closed, a full
 * batch fits again.
 *
 * <p>Of two single-member clusters Hazelcast merges the one whose address sorts last into the other; B gets the
 * address that sorts last, so both directions are covered: first B is suspended and B (the suspended node) merges
 * into A, then A is suspended and B (the node that stayed up) merges into the resumed A.
 *
 * <p>The short timings are Hazelcast's own system properties (the configuration built in code leaves them alone): a
 * heartbeat every second, a member silent for 5 s is removed, the merge check runs every 2 s. Hazelcast logs at INFO
 * (through a logging file of the test) so the test sees the removals and the merges.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SplitBrainMergeTest {

  private static final int LIMIT = 6;
  private static final int A = 0;
  private static final int B = 1;
  private static final String PASSWORD = "split-pw";
  private static final Path DIR = Path.of("target", "split-brain-test");
  private static final Pattern MEMBERS = Pattern.compile("Members \\{size:(\\d+),");
  private static final Pattern MERGED = Pattern.compile(" is MERGED");
  private static final Pattern RESTORED = Pattern.compile("sessions: restored");

  private static final List<Process> nodes = new ArrayList<>();
  private static final int[] socksPorts = new int[2];
  private static Vertx targets;
  private static NetServer target;

  @BeforeAll
  static void startTwoNodes() throws Exception {
    Files.createDirectories(DIR);
    targets = Vertx.vertx();
    // Reads and discards; closes its side when the client is done, so a closed session gives its slot back at once.
    target = targets.createNetServer().connectHandler(socket -> {
      socket.handler(data -> { });
      socket.endHandler(v -> socket.close());
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    int[] hzPorts = {freePort(), freePort()};
    // Hazelcast compares "[host]:port" strings: B's must sort last, so B is the one that merges.
    if (("[127.0.0.1]:" + hzPorts[0]).compareTo("[127.0.0.1]:" + hzPorts[1]) > 0) {
      hzPorts = new int[] {hzPorts[1], hzPorts[0]};
    }
    socksPorts[0] = freePort();
    socksPorts[1] = freePort();
    String hash = PasswordHash.create(PASSWORD.toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
    Path config = DIR.resolve("cluster.yaml");
    Files.writeString(config, String.join("\n",
        "listen: { host: 127.0.0.1, port: 1080 }",
        "auth: { methods: [username-password] }",
        "users:",
        "  - { name: alice, password: \"" + hash + "\" }",
        "rules:",
        "  request:",
        "    - { action: allow, to: [\"127.0.0.1\"] }",
        "limits: { sessions-per-user: " + LIMIT + " }",
        "cluster:",
        "  enabled: true",
        "  name: split-" + UUID.randomUUID(),
        "  members: [\"127.0.0.1:" + hzPorts[0] + "\", \"127.0.0.1:" + hzPorts[1] + "\"]",
        "  host: 127.0.0.1",
        "  port: " + hzPorts[0],
        "  join-wait: 0s",
        "admin: { port: 0 }",
        "drain: { grace: 0s, timeout: 1s }",
        ""));
    Path logging = DIR.resolve("logging.properties");
    Files.writeString(logging, String.join("\n",
        "handlers=java.util.logging.ConsoleHandler",
        ".level=INFO",
        "io.netty.level=WARNING",
        "java.util.logging.ConsoleHandler.level=INFO",
        "java.util.logging.SimpleFormatter.format=%1$tT.%1$tL %4$s %3$s %5$s%6$s%n",
        ""));
    for (int i = 0; i < 2; i++) {
      Files.deleteIfExists(DIR.resolve("node-" + i + ".log"));
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(JVM_FLAGS);
      cmd.add("-Djava.util.logging.config.file=" + logging.toAbsolutePath());
      cmd.add("-Dhazelcast.heartbeat.interval.seconds=1");
      cmd.add("-Dhazelcast.max.no.heartbeat.seconds=5");
      cmd.add("-Dhazelcast.merge.first.run.delay.seconds=2");
      cmd.add("-Dhazelcast.merge.next.run.delay.seconds=2");
      cmd.add("-Dvxsocks.listen.port=" + socksPorts[i]);
      cmd.add("-Dvxsocks.cluster.port=" + hzPorts[i]);
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--config",
          config.toString()));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(DIR.resolve("node-" + i + ".log").toFile());
      pb.environment().keySet().removeIf(k -> k.startsWith("VXSOCKS_"));
      nodes.add(pb.start());
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> nodes.forEach(Process::destroyForcibly)));
    for (int i = 0; i < 2; i++) {
      int n = i;
      poll(Duration.ofSeconds(60), () -> log(n).contains("vxsocks listening on") || !nodes.get(n).isAlive());
      assertThat(nodes.get(n).isAlive()).as("node %d is running; its log:%n%s", n, log(n)).isTrue();
      poll(Duration.ofSeconds(30), () -> lastMembers(n) == 2);
    }
  }

  @AfterAll
  static void stopNodes() throws Exception {
    for (Process p : nodes) {
      signal(p, "CONT"); // never leave a stopped process behind
      p.destroy();
    }
    for (Process p : nodes) {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    if (targets != null) {
      targets.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void countsEqualTheOpenSessionsAfterEachMerge() throws Exception {
    List<List<Socket>> open = List.of(new ArrayList<>(), new ArrayList<>());
    try {
      // The limit is full: 4 sessions through A, 2 through B.
      for (int i = 0; i < 4; i++) {
        open.get(A).add(admitted(A));
      }
      for (int i = 0; i < 2; i++) {
        open.get(B).add(admitted(B));
      }
      refused(A);
      refused(B);

      // 1. B suspended, two of A's sessions end meanwhile, B merges into A: 2 + 2 open, so 2 more fit.
      splitAndMerge(B, () -> closeSome(open.get(A), 2));
      open.get(A).add(admitted(A));
      open.get(B).add(admitted(B));
      refused(A);
      refused(B);

      // 2. A suspended, one of B's sessions ends meanwhile, B merges into the resumed A: 3 + 2 open, so 1 more fits.
      splitAndMerge(A, () -> closeSome(open.get(B), 1));
      open.get(A).add(admitted(A));
      refused(A);
      refused(B);

      // Everything closed: the counts go back to zero on both sides, so a full batch fits again.
      closeAll(open.get(A));
      closeAll(open.get(B));
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      int node = A;
      while (open.get(A).size() + open.get(B).size() < LIMIT && System.nanoTime() - deadline < 0) {
        Socket s = open(node);
        if (s != null) {
          open.get(node).add(s);
          node = 1 - node;
        } else {
          Thread.sleep(100); // a release still on its way
        }
      }
      assertThat(open.get(A).size() + open.get(B).size()).as("sessions admitted after closing everything")
          .isEqualTo(LIMIT);
      refused(A);
      refused(B);
    } finally {
      signal(nodes.get(A), "CONT");
      signal(nodes.get(B), "CONT");
      closeAll(open.get(A));
      closeAll(open.get(B));
    }
  }

  /**
   * Suspends node {@code stopped} until the other has removed it, runs {@code duringSplit}, resumes it, and waits
   * for B to merge into A and (up to 5 s) for B to report its share put back.
   */
  private static void splitAndMerge(int stopped, ThrowingRunnable duringSplit) throws Exception {
    int survivor = 1 - stopped;
    int membersBefore = count(MEMBERS, survivor);
    int mergedBefore = count(MERGED, B);
    int restoredBefore = count(RESTORED, B);
    signal(nodes.get(stopped), "STOP");
    long stoppedAt = System.nanoTime();
    poll(Duration.ofSeconds(30), () -> count(MEMBERS, survivor) > membersBefore && lastMembers(survivor) == 1);
    System.out.println("split: " + name(survivor) + " removed " + name(stopped) + " " + millisSince(stoppedAt)
        + " ms after SIGSTOP");
    duringSplit.run();
    Thread.sleep(500); // the releases reach the survivor's store (it is alone: nothing waits on the stopped node)
    signal(nodes.get(stopped), "CONT");
    long resumedAt = System.nanoTime();
    poll(Duration.ofSeconds(45), () -> count(MERGED, A) > 0 || count(MERGED, B) > mergedBefore);
    assertThat(count(MERGED, A)).as("B (the address that sorts last) merges into A, never A into B").isZero();
    System.out.println("merge: B merged into A " + millisSince(resumedAt) + " ms after SIGCONT");
    poll(Duration.ofSeconds(30), () -> lastMembers(A) == 2 && lastMembers(B) == 2);
    long mergedAt = System.nanoTime();
    while (count(RESTORED, B) == restoredBefore && millisSince(mergedAt) < 5_000) {
      Thread.sleep(100);
    }
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  private static String name(int node) {
    return node == A ? "A" : "B";
  }

  private static void closeSome(List<Socket> sockets, int n) throws IOException {
    for (int i = 0; i < n; i++) {
      sockets.remove(0).close();
    }
  }

  // --- helpers ------------------------------------------------------------------------------------------------------

  /** A session through node {@code node} that must be admitted; retries a general failure (0x01) for up to 10 s. */
  private static Socket admitted(int node) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      Socket s = new Socket();
      int reply;
      try {
        reply = ThreeNodeClusterTest.request(s, socksPorts[node], "alice", PASSWORD, target.actualPort());
      } catch (IOException e) {
        reply = -2;
      }
      if (reply == 0) {
        return s;
      }
      s.close();
      assertThat(reply).as("a session through node %d must be admitted, got reply %d", node, reply).isNotEqualTo(2);
      assertThat(System.nanoTime() - deadline).as("node %d admits a session within 10 s (reply %d)", node, reply)
          .isNegative();
      Thread.sleep(200);
    }
  }

  /** A session through node {@code node} that the limit must refuse (0x02); a general failure is retried. */
  private static void refused(int node) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      int reply;
      try (Socket s = new Socket()) {
        reply = ThreeNodeClusterTest.request(s, socksPorts[node], "alice", PASSWORD, target.actualPort());
      } catch (IOException e) {
        reply = -2;
      }
      assertThat(reply).as("the limit refuses a session through node %d", node).isNotZero();
      if (reply == 2) {
        return;
      }
      assertThat(System.nanoTime() - deadline).as("node %d answers the limit within 10 s (reply %d)", node, reply)
          .isNegative();
      Thread.sleep(200);
    }
  }

  /** A session through node {@code node}, or null when refused for any reason. */
  private static Socket open(int node) throws IOException {
    Socket s = new Socket();
    try {
      if (ThreeNodeClusterTest.request(s, socksPorts[node], "alice", PASSWORD, target.actualPort()) == 0) {
        return s;
      }
    } catch (IOException e) {
      // counted as not open
    }
    s.close();
    return null;
  }

  private static void closeAll(List<Socket> sockets) throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    sockets.clear();
  }

  /** Sends SIGSTOP or SIGCONT to a node this test started (by its pid). */
  private static void signal(Process p, String sig) throws Exception {
    if (!p.isAlive()) {
      return;
    }
    Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  private static String log(int node) {
    try {
      return Files.readString(DIR.resolve("node-" + node + ".log"));
    } catch (IOException e) {
      return "";
    }
  }

  /** How many times {@code p} occurs in node {@code node}'s log. */
  private static int count(Pattern p, int node) {
    Matcher m = p.matcher(log(node));
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  /** The size of the last membership list node {@code node} logged (0 before the first). */
  private static int lastMembers(int node) {
    Matcher m = MEMBERS.matcher(log(node));
    int size = 0;
    while (m.find()) {
      size = Integer.parseInt(m.group(1));
    }
    return size;
  }
}
