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
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A revoked user stays revoked: three node processes (as in {@link ThreeNodeClusterTest}, TCP/IP on 127.0.0.1,
 * multicast off) started with a file that lists alice, carol and dave enabled. Alice is disabled and dave removed
 * with the {@code user} command; then a rule change is rolled out with {@code config apply} from a file that still
 * lists both as enabled (the rule goes live, the users stay revoked), a node restarts with the old file (nothing
 * comes back), and finally {@code config apply --users} makes the file's users the cluster's, saying so per user.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RevokedUserClusterTest {

  private static final String PW = "pw-of-each";
  private static final Path DIR = Path.of("target", "revoked-user-test");
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static final int[] socksPorts = new int[3];
  private static final int[] hzPorts = new int[3];
  private static Path startFile;
  private static Path rolloutFile;
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
    for (int i = 0; i < 3; i++) {
      socksPorts[i] = LoopbackTargets.freePort();
      hzPorts[i] = LoopbackTargets.freePort();
    }
    String cluster = "it-" + UUID.randomUUID();
    String hash = PasswordHash.create(PW.toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
    startFile = DIR.resolve("start.yaml");
    rolloutFile = DIR.resolve("rollout.yaml");
    Files.writeString(startFile, yaml(hash, cluster, false));
    Files.writeString(rolloutFile, yaml(hash, cluster, true));
    for (int i = 0; i < 3; i++) {
      nodes.add(startNode(i));
    }
    for (int i = 0; i < 3; i++) {
      awaitListening(nodes.get(i), i);
    }
    for (int port : socksPorts) {
      for (String user : List.of("alice", "carol", "dave")) {
        NodeProcess.poll(Duration.ofSeconds(30), () -> login(port, user)[1] == 0);
      }
    }
  }

  private static NodeProcess startNode(int i) throws IOException {
    return NodeProcess.start(NodeProcess.clusterMember(startFile, socksPorts[i], hzPorts[i], 0), Map.of(),
        DIR.resolve("node-" + i + ".log"));
  }

  private static void awaitListening(NodeProcess node, int i) throws InterruptedException {
    node.await(NodeProcess.LISTENING, Duration.ofSeconds(120)); // null if it ended: checked next
    assertThat(node.process.isAlive()).as("node %d is running; its log:%n%s", i, node.log()).isTrue();
  }

  private static String yaml(String hash, String cluster, boolean denyRule) {
    return String.join("\n",
        "listen: { host: 127.0.0.1, port: 1080 }",
        "auth: { methods: [username-password] }",
        "users:",
        "  - { name: alice, password: \"" + hash + "\" }",
        "  - { name: carol, password: \"" + hash + "\" }",
        "  - { name: dave, password: \"" + hash + "\" }",
        "rules:",
        "  request:",
        denyRule ? "    - { action: deny, to: [\"127.0.0.1\"], ports: [\"" + deniedTarget.port() + "\"] }" : "",
        "    - { action: allow, to: [\"127.0.0.1\"] }",
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
  void configApplyOfAFileListingRevokedUsersChangesTheRuleAndNotTheUsers() throws Exception {
    assertThat(cli("user", "disable", "alice", "--config", startFile.toString()).code).isZero();
    assertThat(cli("user", "remove", "dave", "--config", startFile.toString()).code).isZero();
    for (int port : socksPorts) {
      NodeProcess.poll(Duration.ofSeconds(1), () -> login(port, "alice")[1] == 1 && login(port, "dave")[1] == 1);
      assertThat(connectReply(port, "carol", deniedTarget.port())).isZero();
    }

    Cli apply = cli("config", "apply", rolloutFile.toString());
    assertThat(apply.code).as(apply.out).isZero();
    assertThat(apply.out)
        .contains("user alice: skipped: enabled in the file, disabled in the cluster\n")
        .contains("user dave: skipped: in the file, not in the cluster\n")
        .contains("users: none changed; 2 differences skipped")
        .doesNotContain("user carol")
        .doesNotContain("pbkdf2");

    // The rule is live on every node (config apply returned once each reported the version); the users are not back.
    for (int i = 0; i < 3; i++) {
      int port = socksPorts[i];
      assertThat(connectReply(port, "carol", deniedTarget.port())).as("denied target via node %d", i).isEqualTo(2);
      assertThat(connectReply(port, "carol", target.port())).as("allowed target via node %d", i).isZero();
      assertRefused(port, "alice");
      assertRefused(port, "dave");
      NodeProcess node = nodes.get(i);
      awaitLog(node, Pattern.compile("user=alice .*close=\"auth failed: disabled\""));
      awaitLog(node, Pattern.compile("user=dave .*close=\"auth failed: bad-credentials\""));
    }
  }

  @Test
  @Order(2)
  void aNodeRestartedWithTheOldFileBringsNoUserBack() throws Exception {
    NodeProcess old = nodes.get(1);
    old.process.destroy(); // SIGTERM: drains and leaves the cluster
    assertThat(old.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    NodeProcess restarted = startNode(1);
    nodes.set(1, restarted);
    awaitListening(restarted, 1);
    assertThat(restarted.log())
        .contains("users: alice: enabled in the file, disabled in the cluster: left as the cluster has it")
        .contains("users: dave: in the file, not in the cluster: left as the cluster has it")
        .doesNotContain("users: carol")
        .doesNotContain("this node started the cluster's users");
    for (int i = 0; i < 3; i++) {
      int port = socksPorts[i];
      assertRefused(port, "alice");
      assertRefused(port, "dave");
      assertThat(login(port, "carol")[1]).as("carol on node %d", i).isZero();
    }
    // The restarted node took the rolled-out configuration, not its file's rules.
    assertThat(connectReply(socksPorts[1], "carol", deniedTarget.port())).isEqualTo(2);
  }

  @Test
  @Order(3)
  void configApplyWithUsersSaysAndMakesEachChange() throws Exception {
    Cli apply = cli("config", "apply", "--users", rolloutFile.toString());
    assertThat(apply.code).as(apply.out).isZero();
    assertThat(apply.out)
        .contains("user alice: enabled (was disabled)\n")
        .contains("user dave: added\n")
        .contains("users: 2 changed\n")
        .doesNotContain("user carol")
        .doesNotContain("pbkdf2");
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    for (int port : socksPorts) {
      for (String user : List.of("alice", "dave")) {
        while (login(port, user)[1] != 0) {
          assertThat(System.nanoTime() - deadline).as("%s accepted on port %d within 1 s", user, port).isNegative();
          Thread.sleep(20);
        }
      }
    }
    // Applied again, the same file finds nothing to change.
    Cli again = cli("config", "apply", "--users", rolloutFile.toString());
    assertThat(again.code).isZero();
    assertThat(again.out).doesNotContain("user ").contains("users: 0 changed");
  }

  // --- helpers ------------------------------------------------------------------------------------------------------

  private record Cli(int code, String out) {
  }

  private static Cli cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    String printed = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    System.out.println("cli " + String.join(" ", args) + " -> " + code + "\n" + printed);
    return new Cli(code, printed);
  }

  /** The RFC 1929 status reply (version, status) for {@code user}; {-1, -1} when the proxy gave none. */
  private static int[] login(int port, String user) {
    try (RawClient c = new RawClient(port)) {
      if (c.greet(2) != 2) {
        return new int[] {-1, -1};
      }
      c.send(RawClient.passwordRequest(user, PW));
      byte[] status = c.read(2);
      return new int[] {status[0], status[1]};
    } catch (IOException | AssertionError e) {
      return new int[] {-1, -1};
    }
  }

  /** Refused as RFC 1929 says: status 01 01, then the proxy closes. */
  private static void assertRefused(int port, String user) throws IOException {
    try (RawClient c = new RawClient(port)) {
      assertThat(c.greet(2)).isEqualTo(2);
      c.send(RawClient.passwordRequest(user, PW));
      c.expect(new byte[] {1, 1});
      c.expectClosed();
    }
  }

  /** The reply code of a CONNECT by {@code user} to 127.0.0.1:{@code targetPort}; -1 if authentication failed. */
  private static int connectReply(int port, String user, int targetPort) throws IOException {
    try (Socket s = new Socket()) {
      return ThreeNodeClusterTest.request(s, port, user, PW, targetPort);
    }
  }

  private static void awaitLog(NodeProcess node, Pattern line) throws InterruptedException {
    NodeProcess.poll(Duration.ofSeconds(5), () -> line.matcher(node.log()).find());
  }
}
