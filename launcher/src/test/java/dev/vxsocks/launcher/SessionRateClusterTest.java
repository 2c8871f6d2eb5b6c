package dev.vxsocks.launcher;

import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.launcher.RateRace.Entrant;
import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The new-session rate limits across two node processes ({@link NodeProcess#clusterMember}), clustered over TCP/IP on
 * 127.0.0.1 with multicast off under a name of their own: sessions raced at both nodes at once get through as on one
 * node (RateRace's bound, from the race's own duration), per address and then per user after a {@code config
 * apply}, and not at all limited once a rollout sets the limits to 0.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SessionRateClusterTest {

  private static final String ALICE_PW = "alice-pw";
  private static final String BOB_PW = "bob-pw";
  private static final Path DIR = Path.of("target", "session-rate-cluster-test");
  /** The start-up line's cluster size ("... member 127.0.0.1:PORT of 2, ..."). */
  private static final Pattern MEMBERS = Pattern.compile("vxsocks listening on .* member \\S+ of (\\d+),");
  private static final List<NodeProcess> nodes = new ArrayList<>();
  private static final int[] socksPorts = new int[2];
  private static final int[] hzPorts = new int[2];
  private static String cluster;
  private static String aliceHash;
  private static String bobHash;
  private static TcpTarget target;

  @BeforeAll
  static void startCluster() throws Exception {
    Files.createDirectories(DIR);
    for (int i = 0; i < 2; i++) {
      Files.deleteIfExists(DIR.resolve("node-" + i + ".log"));
      socksPorts[i] = LoopbackTargets.freePort();
      hzPorts[i] = LoopbackTargets.freePort();
    }
    target = TcpTarget.start(TcpTarget.Mode.SINK);
    cluster = "rates-" + UUID.randomUUID();
    aliceHash = PasswordHash.create(ALICE_PW.toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
    bobHash = PasswordHash.create(BOB_PW.toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
    Path config = DIR.resolve("cluster.yaml");
    Files.writeString(config, yaml(0, 10));
    for (int i = 0; i < 2; i++) {
      nodes.add(NodeProcess.start(NodeProcess.clusterMember(config, socksPorts[i], hzPorts[i], 0), Map.of(),
          DIR.resolve("node-" + i + ".log")));
    }
    for (int i = 0; i < 2; i++) {
      NodeProcess node = nodes.get(i);
      node.await(NodeProcess.LISTENING, Duration.ofSeconds(120));
      assertThat(node.process.isAlive()).as("node %d is running; its log:%n%s", i, node.log()).isTrue();
    }
    // The one that started second saw both members: the cluster has formed.
    NodeProcess.poll(Duration.ofSeconds(60), () -> lastMembers(0) == 2 || lastMembers(1) == 2);
  }

  private static String yaml(int perUser, int perIp) {
    return String.join("\n",
        "listen: { host: 127.0.0.1, port: 1080 }",
        "auth: { methods: [username-password] }",
        "users:",
        "  - { name: alice, password: \"" + aliceHash + "\" }",
        "  - { name: bob, password: \"" + bobHash + "\" }",
        "rules:",
        "  request:",
        "    - { action: allow, to: [\"127.0.0.1\"] }",
        "timeouts: { handshake: 60s }",
        "limits: { new-sessions-per-second-per-user: " + perUser + ", new-sessions-per-second-per-client-ip: "
            + perIp + " }",
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
  }

  private static int lastMembers(int node) {
    Matcher m = MEMBERS.matcher(nodes.get(node).log());
    int size = 0;
    while (m.find()) {
      size = Integer.parseInt(m.group(1));
    }
    return size;
  }

  /** Summary lines closed with {@code reason} in both nodes' logs. */
  private static long closedWith(String reason) {
    String field = "close=\"" + reason + "\"";
    long n = 0;
    for (NodeProcess node : nodes) {
      n += node.log().lines().filter(l -> l.contains(field)).count();
    }
    return n;
  }

  private static long awaitClosedWith(String reason, long atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (closedWith(reason) < atLeast && System.nanoTime() - deadline < 0) {
      Thread.sleep(100);
    }
    return closedWith(reason);
  }

  private static int cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    System.out.println("cli " + String.join(" ", args) + " -> " + code + "\n" + out + err);
    return code;
  }

  private static void rollOut(int perUser, int perIp) throws Exception {
    Path file = DIR.resolve("rollout-" + perUser + "-" + perIp + ".yaml");
    Files.writeString(file, yaml(perUser, perIp));
    assertThat(cli("config", "apply", file.toString())).as("config apply %s", file).isZero();
  }

  @Test
  @Order(1)
  void racingAtBothNodesFromOneAddressLetsTheLimitThrough() throws Exception {
    List<Entrant> entrants = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      entrants.add(new Entrant(socksPorts[i % 2], "127.0.0.51", "alice", ALICE_PW));
    }
    long warmRefused = RateRace.warmUp(entrants, "127.0.0.50", target.port()).refused();
    awaitClosedWith("limit: new sessions per second per client ip (10)", warmRefused);

    RateRace.Result r = RateRace.run(entrants, target.port());

    r.assertWithin(10, e -> true, "100 racing at two nodes from 127.0.0.51 at 10/s");
    assertThat(r.granted(e -> e.proxyPort() == socksPorts[0])).as("node 1 took part").isPositive();
    assertThat(awaitClosedWith("limit: new sessions per second per client ip (10)", warmRefused + r.refused()))
        .isEqualTo(warmRefused + r.refused());
  }

  @Test
  @Order(2)
  void perUserAfterConfigApplyIsKeyedByUserAcrossAddressesAndNodes() throws Exception {
    rollOut(8, 0);
    List<Entrant> entrants = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      // alice and bob alternate; each from two addresses, at both nodes.
      String user = i % 2 == 0 ? "alice" : "bob";
      entrants.add(new Entrant(socksPorts[(i / 2) % 2], "127.0.0." + (52 + (i / 4) % 2), user,
          user.equals("alice") ? ALICE_PW : BOB_PW));
    }

    RateRace.Result r = RateRace.run(entrants, target.port());

    r.assertWithin(8, e -> e.user().equals("alice"), "alice, 30 racing from two addresses at two nodes at 8/s");
    r.assertWithin(8, e -> e.user().equals("bob"), "bob, the same at the same time, counted apart");
    assertThat(awaitClosedWith("limit: new sessions per second per user (8)", r.refused())).isEqualTo(r.refused());
  }

  @Test
  @Order(3)
  void limitsRolledOutAsZeroAreOff() throws Exception {
    rollOut(0, 0);
    List<Entrant> entrants = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      entrants.add(new Entrant(socksPorts[i % 2], "127.0.0.51", "alice", ALICE_PW));
    }
    RateRace.Result r = RateRace.run(entrants, target.port());
    assertThat(r.granted()).as("%s", r).isEqualTo(40);
  }
}
