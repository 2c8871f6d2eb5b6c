package dev.vxsocks.launcher;

import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.RawClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three proxy nodes as separate JVMs ({@code Main run}, started here with this module's test class path), joined over
 * TCP/IP on 127.0.0.1 with multicast off under a cluster name of their own. Each scenario of issue 4 in order: exact
 * limits under a race, users added and disabled through the command line, a rule rolled out with
 * {@code config apply}, a node killed with kill -9 whose sessions must stop counting, and finally a node stopped
 * with SIGTERM that leaves the cluster without losing the users held in its partitions. Every wait polls
 * with the issue's own bound as deadline.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ThreeNodeClusterTest {

  private static final int LIMIT = 5;
  private static final String ALICE_PW = "alice-pw";
  private static final String BOB_PW = "bob-pw";
  private static final Path DIR = Path.of("target", "three-node-test");
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static final int[] socksPorts = new int[3];
  private static Path config;
  private static String cluster;
  /**
   * Targets that read and discard, and close their side once the client's side is done: a session ends (and gives
   * its slot back) when the SOCKS client closes, instead of waiting in half-close.
   */
  private static TcpTarget target;
  private static TcpTarget deniedTarget;

  @BeforeAll
  static void startCluster() throws Exception {
    Files.createDirectories(DIR);
    for (int i = 0; i < 3; i++) {
      Files.deleteIfExists(DIR.resolve("node-" + i + ".log"));
    }
    target = TcpTarget.start(TcpTarget.Mode.SINK);
    deniedTarget = TcpTarget.start(TcpTarget.Mode.SINK);
    int[] hzPorts = new int[3];
    for (int i = 0; i < 3; i++) {
      socksPorts[i] = LoopbackTargets.freePort();
      hzPorts[i] = LoopbackTargets.freePort();
    }
    cluster = "it-" + UUID.randomUUID();
    String aliceHash = PasswordHash.create(ALICE_PW.toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
    config = DIR.resolve("cluster.yaml");
    Files.writeString(config, yaml(aliceHash, hzPorts, false));
    Files.writeString(DIR.resolve("rollout.yaml"), yaml(aliceHash, hzPorts, true));
    for (int i = 0; i < 3; i++) {
      nodes.add(NodeProcess.start(NodeProcess.clusterMember(config, socksPorts[i], hzPorts[i], 0), Map.of(),
          DIR.resolve("node-" + i + ".log")));
    }
    for (int i = 0; i < 3; i++) {
      NodeProcess node = nodes.get(i);
      node.await(NodeProcess.LISTENING, Duration.ofSeconds(120)); // null if it ended: checked next
      assertThat(node.process.isAlive()).as("node %d is running; its log:%n%s", i, node.log()).isTrue();
      // No cluster.memo-secret-file: the node runs without the verification memo, and says what that costs.
      assertThat(node.log()).contains("WARNING dev.vxsocks.node memo: cluster.memo-secret-file is not set");
    }
    // Everyone sees everyone: alice authenticates on each node.
    for (int port : socksPorts) {
      NodeProcess.poll(Duration.ofSeconds(30), () -> authStatus(port, "alice", ALICE_PW) == 0);
    }
  }

  private static String yaml(String aliceHash, int[] hzPorts, boolean denyRule) {
    return String.join("\n",
        "listen: { host: 127.0.0.1, port: 1080 }",
        "auth: { methods: [username-password] }",
        "users:",
        "  - { name: alice, password: \"" + aliceHash + "\" }",
        "rules:",
        "  request:",
        denyRule ? "    - { action: deny, to: [\"127.0.0.1\"], ports: [\"" + deniedTarget.port() + "\"] }" : "",
        "    - { action: allow, to: [\"127.0.0.1\"] }",
        "limits: { sessions-per-user: " + LIMIT + " }",
        "cluster:",
        "  enabled: true",
        "  name: " + cluster,
        "  members: " + NodeProcess.members(hzPorts),
        "  host: 127.0.0.1",
        "  port: " + hzPorts[0],
        "  join-wait: 0s",
        "drain: { grace: 0s, timeout: 1s }",
        "");
  }

  @AfterAll
  static void stopCluster() throws Exception {
    NodeProcess.stopAll(nodes, Duration.ofSeconds(20));
    if (target != null) {
      target.close();
    }
    if (deniedTarget != null) {
      deniedTarget.close();
    }
  }

  @Test
  @Order(1)
  void limitIsExactUnderARaceAcrossThreeNodes() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(24);
    List<Future<Socket>> attempts = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        int port = socksPorts[i % 3];
        attempts.add(pool.submit(() -> connect(port, "alice", ALICE_PW, target.port())));
      }
      List<Socket> open = new ArrayList<>();
      int refused = 0;
      for (Future<Socket> f : attempts) {
        Socket s = f.get(60, TimeUnit.SECONDS);
        if (s != null) {
          open.add(s);
        } else {
          refused++;
        }
      }
      assertThat(open).hasSize(LIMIT);
      assertThat(refused).isEqualTo(200 - LIMIT);
      for (Socket s : open) {
        s.close();
      }
      // Closing frees the slots: LIMIT new sessions fit again, spread over the nodes.
      List<Socket> again = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (again.size() < LIMIT && System.nanoTime() - deadline < 0) {
        Socket s = connect(socksPorts[again.size() % 3], "alice", ALICE_PW, target.port());
        if (s != null) {
          again.add(s);
        } else {
          Thread.sleep(50);
        }
      }
      assertThat(again).hasSize(LIMIT);
      assertThat(connect(socksPorts[0], "alice", ALICE_PW, target.port())).isNull();
      for (Socket s : again) {
        s.close();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @Order(2)
  void userAddedThroughTheCommandLineWorksOnEveryNodeWithinOneSecond() throws Exception {
    assertThat(authStatus(socksPorts[1], "bob", BOB_PW)).isNotZero();
    String bobHash = PasswordHash.create(BOB_PW.toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
    assertThat(cli("user", "add", "bob", "--hash", bobHash, "--config", config.toString())).isZero();
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    for (int port : socksPorts) {
      while (authStatus(port, "bob", BOB_PW) != 0) {
        assertThat(System.nanoTime() - deadline).as("bob accepted on port %d within 1 s", port).isNegative();
        Thread.sleep(20);
      }
    }
  }

  @Test
  @Order(3)
  void disabledUserIsRefusedEverywhereAndLosesOpenSessions() throws Exception {
    Socket onNode2 = connect(socksPorts[1], "bob", BOB_PW, target.port());
    Socket onNode3 = connect(socksPorts[2], "bob", BOB_PW, target.port());
    assertThat(onNode2).isNotNull();
    assertThat(onNode3).isNotNull();
    assertThat(cli("user", "disable", "bob", "--config", config.toString())).isZero();
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    assertThat(closedBy(onNode2, deadline)).as("bob's session on node 2 closed within 1 s").isTrue();
    assertThat(closedBy(onNode3, deadline)).as("bob's session on node 3 closed within 1 s").isTrue();
    for (int port : socksPorts) {
      assertThat(authStatus(port, "bob", BOB_PW)).as("bob refused on %d", port).isNotZero();
    }
    // Alice is untouched.
    Socket alice = connect(socksPorts[0], "alice", ALICE_PW, target.port());
    assertThat(alice).isNotNull();
    alice.close();
  }

  @Test
  @Order(4)
  void configApplyChangesARuleOnEveryNode() throws Exception {
    for (int port : socksPorts) {
      assertThat(connectReply(port, "alice", ALICE_PW, deniedTarget.port())).isZero();
    }
    // Refused before anything changes: an invalid file.
    Path broken = DIR.resolve("broken.yaml");
    Files.writeString(broken, Files.readString(DIR.resolve("rollout.yaml")).replace("sessions-per-user: " + LIMIT,
        "sessions-per-user: -1"));
    assertThat(cli("config", "apply", broken.toString())).isEqualTo(2);
    // The command returns once every node reported the new version (at most 5 s).
    assertThat(cli("config", "apply", DIR.resolve("rollout.yaml").toString())).isZero();
    for (int port : socksPorts) {
      assertThat(connectReply(port, "alice", ALICE_PW, deniedTarget.port())).as("port %d", port).isEqualTo(2);
      Socket allowed = connect(port, "alice", ALICE_PW, target.port());
      assertThat(allowed).isNotNull();
      allowed.close();
    }
  }

  @Test
  @Order(5)
  void sessionsOfANodeKilledWithKill9StopCountingWithinTenSeconds() throws Exception {
    List<Socket> onNode3 = new ArrayList<>();
    for (int i = 0; i < LIMIT; i++) {
      Socket s = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (s == null && System.nanoTime() - deadline < 0) {
        s = connect(socksPorts[2], "alice", ALICE_PW, target.port());
        if (s == null) {
          Thread.sleep(50); // an earlier test's slot may still be on its way back
        }
      }
      assertThat(s).isNotNull();
      onNode3.add(s);
    }
    assertThat(connect(socksPorts[0], "alice", ALICE_PW, target.port())).isNull();
    nodes.get(2).process.destroyForcibly();
    assertThat(nodes.get(2).process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    List<Socket> onNode1 = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (onNode1.size() < LIMIT && System.nanoTime() - deadline < 0) {
      Socket s = connect(socksPorts[onNode1.size() % 2], "alice", ALICE_PW, target.port());
      if (s != null) {
        onNode1.add(s);
      } else {
        Thread.sleep(100);
      }
    }
    assertThat(onNode1).as("sessions granted after node 3 died").hasSize(LIMIT);
    for (Socket s : onNode1) {
      s.close();
    }
    for (Socket s : onNode3) {
      s.close();
    }
  }

  @Test
  @Order(6)
  void sigtermLeavesTheClusterGracefully() throws Exception {
    List<Socket> onNode2 = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Socket s = connect(socksPorts[1], "alice", ALICE_PW, target.port());
      assertThat(s).isNotNull();
      onNode2.add(s);
    }
    nodes.get(1).process.destroy(); // SIGTERM: a drain, which ends by leaving the cluster
    assertThat(nodes.get(1).process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(nodes.get(1).process.exitValue()).isZero();
    assertThat(nodes.get(1).log()).contains("drain: stopping the node and leaving the cluster").contains("drain: done");
    // The last node has the users (partitions migrated to it) and none of the departed node's slots.
    List<Socket> onNode1 = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (onNode1.size() < LIMIT && System.nanoTime() - deadline < 0) {
      Socket s = connect(socksPorts[0], "alice", ALICE_PW, target.port());
      if (s != null) {
        onNode1.add(s);
      } else {
        Thread.sleep(100);
      }
    }
    assertThat(onNode1).hasSize(LIMIT);
    for (Socket s : onNode1) {
      s.close();
    }
    for (Socket s : onNode2) {
      s.close();
    }
  }

  // --- helpers ------------------------------------------------------------------------------------------------------

  private static int cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    System.out.println("cli " + String.join(" ", args) + " -> " + code + "\n" + out + err);
    return code;
  }

  /** RFC 1929 status after greeting and sub-negotiation (0 = accepted), or -1 when the proxy gave none. */
  private static int authStatus(int port, String user, String password) {
    try (Socket s = new Socket()) {
      return authenticate(s, port, user, password);
    } catch (IOException e) {
      return -1;
    }
  }

  private static int authenticate(Socket s, int port, String user, String password) throws IOException {
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
    s.setSoTimeout(15_000);
    RawClient c = new RawClient(s);
    if (c.greet(2) != 2) {
      return -1;
    }
    return c.login(user, password);
  }

  /** The reply code of a CONNECT to 127.0.0.1:{@code targetPort}; -1 when authentication failed. Closes. */
  private static int connectReply(int port, String user, String password, int targetPort) throws IOException {
    try (Socket s = new Socket()) {
      return request(s, port, user, password, targetPort);
    }
  }

  /** An open relayed session, or null when the proxy refused (the socket is then closed). */
  private static Socket connect(int port, String user, String password, int targetPort) throws IOException {
    Socket s = new Socket();
    try {
      int reply = request(s, port, user, password, targetPort);
      if (reply == 0) {
        return s;
      }
      if (reply != 2) {
        System.out.println("connect via " + port + ": reply " + reply);
      }
    } catch (IOException e) {
      System.out.println("connect via " + port + ": " + e); // refused or closed: counted as not open
    }
    s.close();
    return null;
  }

  /**
   * Greeting, RFC 1929 authentication and a CONNECT to 127.0.0.1:{@code targetPort} on {@code s}: the reply code,
   * -1 if authentication failed.
   */
  static int request(Socket s, int port, String user, String password, int targetPort) throws IOException {
    if (authenticate(s, port, user, password) != 0) {
      return -1;
    }
    return new RawClient(s).request(RawClient.CONNECT, targetPort).code();
  }

  /** True when the proxy closed {@code s} before {@code deadlineNanos}. */
  private static boolean closedBy(Socket s, long deadlineNanos) throws IOException {
    s.setSoTimeout(50);
    InputStream in = s.getInputStream();
    while (System.nanoTime() - deadlineNanos < 0) {
      try {
        if (in.read() < 0) {
          return true;
        }
      } catch (SocketTimeoutException stillOpen) {
        // keep polling
      } catch (IOException reset) {
        return true;
      }
    }
    return false;
  }
}
