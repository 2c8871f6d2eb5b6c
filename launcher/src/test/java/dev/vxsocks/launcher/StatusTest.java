package dev.vxsocks.launcher;

import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.RawClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vxsocks status}: three cluster members as processes of their own ({@link NodeProcess}), read through the
 * records they publish in the cluster, with a known number of sessions held open on one of them; a hung member
 * shows as "no report"; a member that drains and leaves drops out of the table. Then a single node through its admin port, and what an unreachable
 * cluster or node gives: one line and exit code 1.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class StatusTest {

  private static final Path DIR = Path.of("target", "status-test");
  /** A node's record is rewritten every 2 s: the generous bound for a loaded machine. */
  private static final Duration WITHIN = Duration.ofSeconds(15);
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static final int[] socksPorts = new int[3];
  private static final int[] hzPorts = new int[3];
  private static Path config;
  private static String cluster;
  private static TcpTarget target;

  @TempDir
  Path dir;

  @BeforeAll
  static void startCluster() throws Exception {
    Files.createDirectories(DIR);
    target = TcpTarget.start(TcpTarget.Mode.SINK);
    for (int i = 0; i < 3; i++) {
      Files.deleteIfExists(DIR.resolve("node-" + i + ".log"));
      socksPorts[i] = LoopbackTargets.freePort();
      hzPorts[i] = LoopbackTargets.freePort();
    }
    cluster = "status-" + UUID.randomUUID();
    config = DIR.resolve("cluster.yaml");
    Files.writeString(config, String.join("\n",
        "listen: { host: 127.0.0.1, port: 1080 }",
        "auth: { methods: [none] }",
        "rules:",
        "  request:",
        "    - { action: allow, to: [\"127.0.0.1\"] }",
        "cluster:",
        "  enabled: true",
        "  name: " + cluster,
        "  members: " + NodeProcess.members(hzPorts),
        "  host: 127.0.0.1",
        "  port: " + hzPorts[0],
        "  join-wait: 0s",
        "drain: { grace: 0s, timeout: 1s }",
        ""));
    for (int i = 0; i < 3; i++) {
      nodes.add(NodeProcess.start(NodeProcess.clusterMember(config, socksPorts[i], hzPorts[i], 0), Map.of(),
          DIR.resolve("node-" + i + ".log")));
    }
    for (int i = 0; i < 3; i++) {
      NodeProcess node = nodes.get(i);
      node.await(NodeProcess.LISTENING, Duration.ofSeconds(120)); // null if it ended: checked next
      assertThat(node.process.isAlive()).as("node %d is running; its log:%n%s", i, node.log()).isTrue();
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    NodeProcess.stopAll(nodes, Duration.ofSeconds(20));
    if (target != null) {
      target.close();
    }
  }

  /** A relaying session through 127.0.0.1:{@code proxyPort} (method "no authentication", CONNECT to the sink). */
  private static RawClient session(int proxyPort) throws IOException {
    RawClient c = new RawClient(proxyPort);
    assertThat(c.greet(0)).isZero();
    assertThat(c.request(RawClient.CONNECT, target.port()).code()).isZero();
    return c;
  }

  private static JsonObject statusJson(Path file) {
    MainCommandTest.Run r = MainCommandTest.main("status", "--json", "--config", file.toString());
    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out().lines()).as(r.describe()).hasSize(1);
    return new JsonObject(r.out());
  }

  /** The member whose SOCKS port is {@code port}, from a {@code --json} answer; null when absent. */
  private static JsonObject byListenPort(JsonObject status, int port) {
    for (Object o : status.getJsonArray("members")) {
      JsonObject m = (JsonObject) o;
      if (("127.0.0.1:" + port).equals(m.getString("listen"))) {
        return m;
      }
    }
    return null;
  }

  @Test
  @Order(1)
  void listsEveryMemberWithItsSessionsAsJsonAndAsATable() throws Exception {
    List<RawClient> held = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        held.add(session(socksPorts[1]));
      }
      AtomicReference<JsonObject> last = new AtomicReference<>();
      try {
        NodeProcess.poll(WITHIN, () -> {
          JsonObject s = statusJson(config);
          last.set(s);
          JsonObject second = byListenPort(s, socksPorts[1]);
          return s.getJsonArray("members").size() == 3 && second != null && second.getInteger("sessions_open") == 3
              && byListenPort(s, socksPorts[0]) != null && byListenPort(s, socksPorts[2]) != null;
        });
      } catch (AssertionError e) {
        throw new AssertionError("status never showed 3 members and 3 sessions on the second: " + last.get(), e);
      }
      JsonObject s = last.get();
      assertThat(s.getString("cluster")).isEqualTo(cluster);
      JsonArray members = s.getJsonArray("members");
      Set<String> memberAddresses = new HashSet<>();
      Set<String> versions = new HashSet<>();
      for (int i = 0; i < 3; i++) {
        JsonObject m = byListenPort(s, socksPorts[i]);
        assertThat(m.getBoolean("reported")).as("%s", m).isTrue();
        assertThat(m.getBoolean("ready")).as("%s", m).isTrue();
        assertThat(m.containsKey("reason")).as("%s", m).isFalse();
        assertThat(m.getInteger("sessions_open")).as("%s", m).isEqualTo(i == 1 ? 3 : 0);
        assertThat(m.getLong("uptime_s")).as("%s", m).isNotNegative();
        assertThat(m.getString("vxsocks_version")).as("%s", m).startsWith("0.1.0");
        versions.add(m.getString("config_version"));
        memberAddresses.add(m.getString("member"));
      }
      assertThat(versions).hasSize(1);
      assertThat(versions.iterator().next()).matches("[0-9a-f]{12}");
      assertThat(memberAddresses).containsExactlyInAnyOrder(Arrays.stream(hzPorts).mapToObj(p -> "127.0.0.1:" + p)
          .toArray(String[]::new));
      assertThat(members).hasSize(3);

      MainCommandTest.Run table = MainCommandTest.main("status", "--config", config.toString());
      assertThat(table.exit()).as(table.describe()).isZero();
      List<String> lines = table.out().lines().toList();
      assertThat(lines).as(table.describe()).hasSize(5);
      assertThat(lines.get(0).split("\\s+")).containsExactly("MEMBER", "LISTEN", "CONFIG", "SESSIONS", "UPTIME", "READY");
      for (int i = 0; i < 3; i++) {
        String listen = "127.0.0.1:" + socksPorts[i];
        String row = lines.stream().filter(l -> l.contains(" " + listen + " ")).findFirst().orElseThrow(
            () -> new AssertionError("no row for " + listen + "\n" + table.describe()));
        String[] cells = row.split("\\s{2,}");
        assertThat(cells[0]).isEqualTo("127.0.0.1:" + hzPorts[i]);
        assertThat(cells[2]).isEqualTo(versions.iterator().next());
        assertThat(cells[3]).as(row).isEqualTo(i == 1 ? "3" : "0");
        assertThat(cells[4]).as(row).matches("\\d+s|\\d+m \\d\\ds");
        assertThat(cells[5]).as(row).isEqualTo("ready");
      }
      assertThat(lines.get(4)).isEqualTo("cluster " + cluster + ": 3 members");
    } finally {
      for (RawClient c : held) {
        c.close();
      }
    }
    // Closed sessions stop counting at the next refresh.
    NodeProcess.poll(WITHIN, () -> byListenPort(statusJson(config), socksPorts[1]).getInteger("sessions_open") == 0);
  }

  /**
   * A hung member (SIGSTOP: its kernel still accepts connections, nothing answers) is still a member for the
   * cluster's failure detection, but its record expires: the command still answers, in bounded time, and shows it
   * as "no report" (so may be the members whose records its partitions hold).
   */
  @Test
  @Order(2)
  void aHungMemberIsNoReportAndTheCommandStillAnswers() throws Exception {
    long pid = nodes.get(2).process.pid();
    signal("STOP", pid);
    try {
      AtomicReference<JsonObject> last = new AtomicReference<>();
      NodeProcess.poll(Duration.ofSeconds(40), () -> {
        long start = System.nanoTime();
        JsonObject s = statusJson(config);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("one status call").isLessThan(Duration.ofSeconds(30));
        last.set(s);
        for (Object o : s.getJsonArray("members")) {
          JsonObject m = (JsonObject) o;
          if (m.getString("member").equals("127.0.0.1:" + hzPorts[2])) {
            return !m.getBoolean("reported");
          }
        }
        throw new AssertionError("the stopped member left the list already: " + s);
      });
      MainCommandTest.Run table = MainCommandTest.main("status", "--config", config.toString());
      assertThat(table.exit()).as(table.describe()).isZero();
      assertThat(table.out()).as(table.describe()).containsPattern("127\\.0\\.0\\.1:" + hzPorts[2] + " .* no report");
    } finally {
      signal("CONT", pid);
    }
    // Back: its record returns.
    NodeProcess.poll(WITHIN, () -> {
      JsonObject third = byListenPort(statusJson(config), socksPorts[2]);
      return third != null && third.getBoolean("ready");
    });
  }

  private static void signal(String name, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  /** SIGTERM: the node withdraws its record and leaves; the table shows the two members left. */
  @Test
  @Order(3)
  void aMemberThatLeavesDropsOutOfTheTable() throws Exception {
    NodeProcess third = nodes.get(2);
    third.process.destroy();
    assertThat(third.exit()).as(third.log()).isZero();
    NodeProcess.poll(WITHIN, () -> statusJson(config).getJsonArray("members").size() == 2);
    JsonObject s = statusJson(config);
    assertThat(byListenPort(s, socksPorts[2])).isNull();
    for (Object o : s.getJsonArray("members")) {
      assertThat(((JsonObject) o).getBoolean("reported")).as("%s", s).isTrue();
    }
  }

  @Test
  @Order(4)
  void anUnreachableClusterIsOneLineAndExitCodeOne() throws Exception {
    int nobody = LoopbackTargets.closedPort();
    Path file = Files.writeString(dir.resolve("nobody.yaml"), "cluster: { enabled: true, name: nobody, members: "
        + "[\"127.0.0.1:" + nobody + "\"], host: 127.0.0.1 }\n");

    MainCommandTest.Run r = MainCommandTest.main("status", "--config", file.toString());

    assertThat(r.exit()).as(r.describe()).isEqualTo(1);
    assertThat(r.out()).as(r.describe()).isEmpty();
    assertThat(r.err().lines()).as(r.describe()).hasSize(1);
    assertThat(r.err()).as(r.describe()).startsWith("vxsocks: no running vxsocks node reachable at 127.0.0.1:" + nobody);
  }

  private static final Pattern VERSION = Pattern.compile("version ([0-9a-f]{12})");

  /**
   * A single node, through its admin port: its own record, as a table and as JSON; once it has stopped, the command
   * (as a process: the exit code is the JVM's) prints one line and exits 1.
   */
  @Test
  @Order(5)
  void aSingleNodeThroughItsAdminPort() throws Exception {
    int admin = LoopbackTargets.freePort();
    Path file = Files.writeString(dir.resolve("single.yaml"), String.join("\n",
        "listen: { host: 127.0.0.1, port: 0 }",
        "auth: { methods: [none] }",
        "rules:",
        "  request:",
        "    - { action: allow, to: [\"127.0.0.1\"] }",
        "admin: { host: 127.0.0.1, port: " + admin + " }",
        "drain: { grace: 0s, timeout: 1s }",
        ""));
    try (NodeProcess node = NodeProcess.start(NodeProcess.vxsocks("run", "--config", file.toString()), Map.of(),
        dir.resolve("single.log"))) {
      Matcher listening = node.await(NodeProcess.LISTENING);
      assertThat(listening).as(node.log()).isNotNull();
      int port = Integer.parseInt(listening.group(1));
      Matcher version = VERSION.matcher(node.log());
      assertThat(version.find()).as(node.log()).isTrue();
      try (RawClient a = session(port); RawClient b = session(port)) {
        JsonObject s = statusJson(file);
        assertThat(s.getValue("cluster")).isNull();
        assertThat(s.getJsonArray("members")).hasSize(1);
        JsonObject me = s.getJsonArray("members").getJsonObject(0);
        assertThat(me.getValue("member")).as("%s", me).isNull();
        assertThat(me.getString("listen")).isEqualTo("127.0.0.1:" + port);
        assertThat(me.getString("config_version")).isEqualTo(version.group(1));
        assertThat(me.getInteger("sessions_open")).as("%s", me).isEqualTo(2);
        assertThat(me.getBoolean("ready")).isTrue();

        MainCommandTest.Run table = MainCommandTest.main("status", "--config", file.toString());
        assertThat(table.exit()).as(table.describe()).isZero();
        List<String> lines = table.out().lines().toList();
        assertThat(lines).as(table.describe()).hasSize(2);
        assertThat(lines.get(1).split("\\s{2,}")).as(table.describe())
            .startsWith("-", "127.0.0.1:" + port, version.group(1), "2").endsWith("ready");
      }
      node.process.destroy();
      assertThat(node.exit()).as(node.log()).isZero();
    }
    Clients.Result r = Clients.run(NodeProcess.vxsocks("status", "--config", file.toString()), new byte[0]);
    assertThat(r.exit()).as(r.describe()).isEqualTo(1);
    assertThat(r.out()).as(r.describe()).isEmpty();
    assertThat(r.stderr()).as(r.describe())
        .isEqualTo("vxsocks: no vxsocks node answering on its admin port 127.0.0.1:" + admin + ": connection refused\n");
  }
}
