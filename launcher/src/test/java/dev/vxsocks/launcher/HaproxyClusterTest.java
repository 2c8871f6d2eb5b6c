package dev.vxsocks.launcher;

import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.LoopbackTargets.UdpEcho;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.RawClient.Reply;
import dev.vxsocks.testing.SharedTargets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.vxsocks.testing.RawClient.BIND;
import static dev.vxsocks.testing.RawClient.CONNECT;
import static dev.vxsocks.testing.SharedTargets.echo;
import static dev.vxsocks.testing.SharedTargets.http;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The production HAProxy configuration, {@code docs/deploy/haproxy.cfg}, run as it is in front of three clustered
 * node JVMs, with only its addresses and ports rewritten to loopback ({@link #rewrite}): the balancer reaches the
 * nodes from 127.0.0.9 (for 10.0.0.10) and sends PROXY v2 headers, which the nodes trust from 127.0.0.9/32 only.
 * Clients bind to other loopback addresses (127.0.0.2, 127.0.0.4, ...) so that the nodes' logs, client rules and
 * per-address limits show the real client, not the balancer.
 *
 * <p>Client addresses are per test, so that one test's sessions (whose slots are given back asynchronously) never
 * count against another's limit: 127.0.0.2 (curl, PySocks, BIND, the allowed side of the client rule), 127.0.0.3 (the
 * address a client rule denies), 127.0.0.4 and .5 (the limit race), 127.0.1.x, 127.0.2.x (kill -9), 127.0.3.x,
 * 127.0.4.x, 127.0.5.x (rolling restart). The order only puts the cheap checks first; the kill and restart tests bring every
 * node back before they end.
 *
 * <p>Diagnostics: {@code target/haproxy-test/haproxy.log} (HAProxy's standard error: its start-up, server state
 * changes and one tcplog line per session) and {@code node-N.log} (each node's standard error, appended across
 * restarts); their tails are in every assertion message.
 */
@ExtendWith(SharedTargets.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HaproxyClusterTest {

  private static final Path DIR = Path.of("target", "haproxy-test");
  private static final String BALANCER = "127.0.0.9";
  private static final int LIMIT = 3;
  /** drain.grace: longer than HAProxy needs to see readiness fail (fastinter 250 ms x fall 2, plus a check). */
  private static final Duration GRACE = Duration.ofSeconds(3);
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(6);
  private static final Pattern TCPLOG =
      Pattern.compile("(127\\.\\d+\\.\\d+\\.\\d+):(\\d+) \\[[^\\]]*\\] socks vxsocks_nodes/(node\\d) ");

  private static final int[] socksPorts = new int[3];
  private static final int[] adminPorts = new int[3];
  private static final int[] hzPorts = new int[3];
  private static final NodeProcess[] nodes = new NodeProcess[3];
  private static int frontPort;
  private static int statsPort;
  private static Path clusterConfig;
  private static Process haproxy;
  private static UdpEcho udpEcho;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(1)).build();

  // --- the configuration under test -----------------------------------------------------------------------------

  /** docs/deploy/haproxy.cfg, found from the module directory upwards. */
  static Path repoFile(String relative) {
    Path dir = Path.of("").toAbsolutePath();
    for (int i = 0; i < 5 && dir != null; i++, dir = dir.getParent()) {
      Path candidate = dir.resolve(relative);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    return fail(relative + " not found from " + Path.of("").toAbsolutePath() + " upwards");
  }

  /**
   * The documented file with its addresses and ports for this machine, and nothing else changed: the balancer's
   * source 10.0.0.10 becomes 127.0.0.9; {@code server nodeN 10.0.0.1N:1080 check port 9180} becomes 127.0.0.1 with
   * node N's free SOCKS and admin ports; the frontend's {@code bind :1080} becomes 127.0.0.1 and a free port. Fails
   * when the file does not have exactly those five lines to rewrite, so that the documented file cannot drift from
   * what is tested (a fourth server, another bind or another private address would fail here).
   */
  static String rewrite(String doc) {
    String[] lines = doc.split("\n", -1);
    String[] out = lines.clone();
    List<String> changed = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      String l = lines[i];
      String code = l.replaceFirst("#.*", "");
      if (code.matches("\\s*source 10\\.0\\.0\\.10\\s*")) {
        out[i] = l.replace("10.0.0.10", BALANCER);
      } else if (code.matches("\\s*bind :1080\\s*")) {
        out[i] = l.replace("bind :1080", "bind 127.0.0.1:" + frontPort);
      } else {
        Matcher m = Pattern.compile("^(\\s*server node([123]) )10\\.0\\.0\\.1\\2:1080( check port )9180( .*)$").matcher(l);
        if (m.matches()) {
          int n = Integer.parseInt(m.group(2)) - 1;
          out[i] = m.group(1) + "127.0.0.1:" + socksPorts[n] + m.group(3) + adminPorts[n] + m.group(4);
        }
      }
      if (!out[i].equals(l)) {
        changed.add(l.trim());
      }
    }
    String result = String.join("\n", out);
    assertThat(changed).as("the lines of docs/deploy/haproxy.cfg this test rewrites").containsExactlyInAnyOrder(
        "source 10.0.0.10", "bind :1080",
        "server node1 10.0.0.11:1080 check port 9180 send-proxy-v2",
        "server node2 10.0.0.12:1080 check port 9180 send-proxy-v2",
        "server node3 10.0.0.13:1080 check port 9180 send-proxy-v2");
    assertThat(result.replaceAll("#.*", "")).as("no address but loopback left in the rewritten file\n" + result)
        .doesNotContainPattern("\\b(10|172|192)\\.\\d+\\.\\d+\\.\\d+").doesNotContainPattern("bind\\s+[*:]");
    return result;
  }

  /** DEPLOYMENT.md shows the files of docs/deploy/ verbatim: the tested HAProxy file, the unit, the nginx variant. */
  @Test
  @Order(1)
  void deploymentDocShowsTheFilesVerbatim() throws Exception {
    String md = Files.readString(repoFile("docs/DEPLOYMENT.md"));
    for (String[] block : new String[][] {{"haproxy", "haproxy.cfg"}, {"ini", "vxsocks.service"}, {"nginx", "nginx-stream.conf"}}) {
      String file = Files.readString(repoFile("docs/deploy/" + block[1]));
      Matcher m = Pattern.compile("```" + block[0] + "\n(.*?)```", Pattern.DOTALL).matcher(md);
      assertThat(m.find()).as("docs/DEPLOYMENT.md has a ```%s block", block[0]).isTrue();
      assertThat(m.group(1)).as("the ```%s block of docs/DEPLOYMENT.md is docs/deploy/%s", block[0], block[1]).isEqualTo(file);
      assertThat(m.find()).as("only one ```%s block", block[0]).isFalse();
    }
  }

  // --- set-up ---------------------------------------------------------------------------------------------------

  @BeforeAll
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  static void startNodesAndBalancer() throws Exception {
    Files.createDirectories(DIR);
    for (String old : new String[] {"haproxy.log", "node-1.log", "node-2.log", "node-3.log"}) {
      Files.deleteIfExists(DIR.resolve(old));
    }
    udpEcho = UdpEcho.start("127.0.0.1");
    frontPort = LoopbackTargets.freePort();
    statsPort = LoopbackTargets.freePort();
    for (int i = 0; i < 3; i++) {
      socksPorts[i] = LoopbackTargets.freePort();
      adminPorts[i] = LoopbackTargets.freePort();
      hzPorts[i] = LoopbackTargets.freePort();
    }
    clusterConfig = Files.writeString(DIR.resolve("cluster.yaml"), String.join("\n",
        "listen:",
        "  host: 127.0.0.1",
        "  port: 1080",
        "  proxy-protocol-from: [\"" + BALANCER + "/32\"]",
        "  proxy-protocol-timeout: 3s",
        "auth: { methods: [none] }",
        "rules:",
        "  client:",
        "    - { action: deny, from: [\"127.0.0.3/32\"] }",
        "    - { action: allow, from: [\"127.0.0.0/8\"] }",
        "  request:",
        "    - { action: allow, to: [\"127.0.0.0/8\"] }",
        // UDP ASSOCIATE as PySocks sends it (DST.ADDR 0.0.0.0) names no destination; each datagram's destination is
        // then checked and allowed by the rule above.
        "    - { action: allow, commands: [udp-associate] }",
        "limits: { sessions-per-client-ip: " + LIMIT + " }",
        "drain: { grace: " + GRACE.toSeconds() + "s, timeout: " + DRAIN_TIMEOUT.toSeconds() + "s }",
        "cluster:",
        "  enabled: true",
        "  name: haproxy-it-" + UUID.randomUUID(),
        "  members: " + NodeProcess.members(hzPorts),
        "  host: 127.0.0.1",
        "  join-wait: 0s",
        ""));
    for (int i = 0; i < 3; i++) {
      startNode(i);
    }
    for (int i = 0; i < 3; i++) {
      awaitReady(i, Duration.ofSeconds(120));
    }

    // Debian puts it in /usr/sbin, which a non-root PATH may lack.
    String haproxyBin = Files.isExecutable(Path.of("/usr/sbin/haproxy")) ? "/usr/sbin/haproxy" : Clients.onPath("haproxy", "haproxy");
    String rewritten = rewrite(Files.readString(repoFile("docs/deploy/haproxy.cfg")));
    Path cfg = Files.writeString(DIR.resolve("haproxy.cfg"), rewritten);
    // Test only, not part of the documented file: a stats socket on loopback, to read what HAProxy thinks of each node.
    Path statsCfg = Files.writeString(DIR.resolve("haproxy-stats.cfg"),
        "global\n    stats socket ipv4@127.0.0.1:" + statsPort + " level admin\n");
    Clients.Result check = Clients.run(List.of(haproxyBin, "-c", "-f", cfg.toString(), "-f", statsCfg.toString()), new byte[0]);
    assertThat(check.exit()).as("haproxy -c\n" + check.describe()).isZero();
    ProcessBuilder pb = new ProcessBuilder(haproxyBin, "-f", cfg.toString(), "-f", statsCfg.toString(), "-db")
        .redirectErrorStream(true).redirectOutput(DIR.resolve("haproxy.log").toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    haproxy = NodeProcess.killedOnExit(pb.start());
    for (int n = 1; n <= 3; n++) {
      awaitServer("node" + n, "UP", Duration.ofSeconds(15));
    }
  }

  @AfterAll
  static void stopAll() throws Exception {
    Duration stop = Duration.ofSeconds(DRAIN_TIMEOUT.toSeconds() + 15);
    if (haproxy != null) {
      haproxy.destroy();
    }
    NodeProcess.stopAll(Arrays.stream(nodes).filter(Objects::nonNull).toList(), stop);
    if (haproxy != null && !haproxy.waitFor(stop.toSeconds(), TimeUnit.SECONDS)) {
      haproxy.destroyForcibly();
    }
    if (udpEcho != null) {
      udpEcho.close();
    }
  }

  /** Node i (again), appending to its log; its ports stay the same across restarts. */
  private static void startNode(int i) throws IOException {
    nodes[i] = NodeProcess.start(NodeProcess.clusterMember(clusterConfig, socksPorts[i], hzPorts[i], adminPorts[i]),
        Map.of(), nodeLog(i));
  }

  /** Node i has logged "listening" since it was last started, and its readiness answers 200. */
  private static void awaitReady(int i, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    nodes[i].await(NodeProcess.LISTENING, within); // null if it ended: checked next
    assertThat(nodes[i].process.isAlive()).as("node %d is running%n%s", i + 1, diagnostics()).isTrue();
    assertThat(nodes[i].log()).as("the admin port is logged").contains("admin on 127.0.0.1:" + adminPorts[i]);
    while (readiness(i).status() != 200) {
      assertThat(System.nanoTime() - deadline).as("node %d ready within %s: %s%n%s", i + 1, within, readiness(i), diagnostics())
          .isNegative();
      Thread.sleep(100);
    }
  }

  // --- the cases ------------------------------------------------------------------------------------------------

  @Test
  @Order(2)
  void curlThroughTheBalancerIsLoggedWithTheRealClient() throws Exception {
    List<String> cmd = CurlClientTest.curl("--socks5", "127.0.0.1:" + frontPort);
    cmd.addAll(List.of("--interface", "127.0.0.2", "http://127.0.0.1:" + http().port() + "/hello"));

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as(r.describe() + diagnostics()).isZero();
    assertThat(r.out()).as(r.describe()).isEqualTo("hello via 127.0.0.1\n");
    awaitNodeLog(Pattern.compile("session=\\S+ client=127\\.0\\.0\\.2:\\d+ via=127\\.0\\.0\\.9:\\d+ user=- cmd=connect "
        + "target=127\\.0\\.0\\.1:" + http().port() + " reply=succeeded "));
  }

  /**
   * PySocks sends its datagrams to the proxy's address (here the balancer's) with the port of the reply, ignoring
   * BND.ADDR; that reaches the node only because balancer and nodes share 127.0.0.1 here (DEPLOYMENT.md says so).
   * {@code --source} binds both its TCP control connection and its UDP socket to 127.0.0.2, so the node's source
   * check, which uses the address from the PROXY header, lets the datagrams in.
   */
  @Test
  @Order(3)
  void pysocksUdpThroughTheBalancerGetsAnswers() throws Exception {
    byte[] payload = "one datagram through the balancer\n".getBytes(StandardCharsets.US_ASCII);
    List<String> cmd = List.of(Clients.pysocksPython(), Clients.resource("pysocks_client.py"),
        "--proxy-host", "127.0.0.1", "--proxy-port", String.valueOf(frontPort), "--source", "127.0.0.2",
        "--host", "127.0.0.1", "--port", String.valueOf(udpEcho.port()), "--mode", "udp");

    Clients.Result r = Clients.run(cmd, payload);

    assertThat(r.exit()).as(r.describe() + diagnostics()).isZero();
    assertThat(r.stdout()).as(r.describe()).isEqualTo(payload);
    awaitNodeLog(Pattern.compile("client=127\\.0\\.0\\.2:\\d+ via=127\\.0\\.0\\.9:\\d+ user=- cmd=udp-associate [^\\n]*"
        + "udp_up=1/" + payload.length + " udp_down=1/" + payload.length));
  }

  @Test
  @Order(4)
  void bindThroughTheBalancerAcceptsAPeerAtTheNodesAddress() throws Exception {
    try (Socket client = open("127.0.0.2")) {
      Reply first = request(client, BIND, 0);
      assertThat(first.code()).as("first BIND reply" + diagnostics()).isZero();
      assertThat(first.address().getHostAddress()).as("BND.ADDR: the node's address the balancer connected to (127.0.0.1, as is the balancer's here)")
          .isEqualTo("127.0.0.1");
      try (Socket peer = new Socket()) {
        peer.connect(new InetSocketAddress(first.address(), first.port()), 5000);
        peer.setSoTimeout(10_000);
        Reply second = new RawClient(client).reply();
        assertThat(second.code()).as("second BIND reply").isZero();
        assertThat(second.port()).as("the peer's port in the second reply").isEqualTo(peer.getLocalPort());
        client.getOutputStream().write("to the peer\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(peer.getInputStream().readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("to the peer\n");
        peer.getOutputStream().write("to the client\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(client.getInputStream().readNBytes(14), StandardCharsets.US_ASCII)).isEqualTo("to the client\n");
      }
    }
    awaitNodeLog(Pattern.compile("client=127\\.0\\.0\\.2:\\d+ via=127\\.0\\.0\\.9:\\d+ user=- cmd=bind target=127\\.0\\.0\\.1:0 "
        + "reply=succeeded up=12 down=14 "));
  }

  @Test
  @Order(5)
  void sessionLimitPerClientAddressIsExactBehindTheBalancer() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(20);
    Map<String, List<Future<Socket>>> attempts = new HashMap<>();
    List<Socket> held = new ArrayList<>();
    try {
      CountDownLatch go = new CountDownLatch(1);
      for (String source : List.of("127.0.0.4", "127.0.0.5")) {
        for (int i = 0; i < 10; i++) {
          attempts.computeIfAbsent(source, k -> new ArrayList<>()).add(pool.submit(() -> {
            go.await();
            Socket s = open(source);
            Reply r = request(s, CONNECT, echo().port());
            if (r.code() == 0) {
              return s;
            }
            assertThat(r.code()).as("a refused session is reply 2 (not allowed)").isEqualTo(2);
            s.close();
            return null;
          }));
        }
      }
      go.countDown();
      for (String source : attempts.keySet()) {
        int admitted = 0;
        for (Future<Socket> f : attempts.get(source)) {
          Socket s = f.get(30, TimeUnit.SECONDS);
          if (s != null) {
            held.add(s);
            admitted++;
            roundTrip(s, ("held from " + source + "\n").getBytes(StandardCharsets.US_ASCII));
          }
        }
        assertThat(admitted).as("sessions admitted from %s%s", source, diagnostics()).isEqualTo(LIMIT);
      }
    } finally {
      for (Socket s : held) {
        s.close();
      }
      pool.shutdownNow();
    }
  }

  @Test
  @Order(6)
  void clientRuleSeesTheRealClient() throws Exception {
    try (Socket denied = open("127.0.0.3")) {
      denied.getOutputStream().write(new byte[] {5, 1, 0});
      assertThat(readOrEnd(denied)).as("127.0.0.3 is closed without a method reply").isEqualTo(-1);
    }
    awaitNodeLog(Pattern.compile("client=127\\.0\\.0\\.3:\\d+ via=127\\.0\\.0\\.9:\\d+ [^\\n]*close=\"client rules"));
    try (Socket allowed = open("127.0.0.2")) {
      assertThat(request(allowed, CONNECT, echo().port()).code()).isZero();
      roundTrip(allowed, "127.0.0.2 is allowed\n".getBytes(StandardCharsets.US_ASCII));
    }
  }

  /**
   * The header is trusted only from listen.proxy-protocol-from: a client connecting straight to a node cannot claim
   * another address with one, and the balancer's address must send one.
   */
  @Test
  @Order(7)
  void proxyHeaderOnlyFromTheBalancer() throws Exception {
    try (Socket forger = new Socket()) {
      forger.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
      forger.connect(new InetSocketAddress(LoopbackTargets.IPV4, socksPorts[0]), 5000);
      forger.setSoTimeout(10_000);
      forger.getOutputStream().write("PROXY TCP4 127.0.0.66 127.0.0.1 40000 1080\r\n".getBytes(StandardCharsets.US_ASCII));
      forger.getOutputStream().write(new byte[] {5, 1, 0});
      assertThat(readOrEnd(forger)).as("a PROXY header from an untrusted peer is not SOCKS: closed").isEqualTo(-1);
      awaitNodeLog(Pattern.compile("client=127\\.0\\.0\\.2:" + forger.getLocalPort() + " "));
    }
    try (Socket balancerWithoutHeader = new Socket()) {
      balancerWithoutHeader.bind(new InetSocketAddress(InetAddress.getByName(BALANCER), 0));
      balancerWithoutHeader.connect(new InetSocketAddress(LoopbackTargets.IPV4, socksPorts[0]), 5000);
      balancerWithoutHeader.setSoTimeout(10_000);
      balancerWithoutHeader.getOutputStream().write(new byte[] {5, 1, 0});
      assertThat(readOrEnd(balancerWithoutHeader)).as("a trusted peer without a header is closed").isEqualTo(-1);
    }
    assertThat(nodeLogs()).doesNotContain("client=127.0.0.66");
  }

  @Test
  @Order(8)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void killingANodeLosesOnlyItsOwnSessions() throws Exception {
    awaitAllUp();
    int victim = 2;
    String victimName = "node" + (victim + 1);
    ExecutorService pool = Executors.newFixedThreadPool(20);
    try {
      CountDownLatch connected = new CountDownLatch(20);
      List<Future<Stream>> streams = new ArrayList<>();
      for (int k = 1; k <= 20; k++) {
        String source = "127.0.1." + k;
        streams.add(pool.submit(() -> stream(source, 60, 16 * 1024, 50, c -> connected.countDown())));
      }
      assertThat(connected.await(20, TimeUnit.SECONDS)).as("20 streams relaying" + diagnostics()).isTrue();
      Thread.sleep(500);
      nodes[victim].process.destroyForcibly(); // kill -9
      assertThat(nodes[victim].process.waitFor(10, TimeUnit.SECONDS)).isTrue();
      long killed = System.nanoTime();

      // New sessions right after the kill: a connect to the dead node is refused and redispatched to another.
      for (int k = 1; k <= 10; k++) {
        try (Socket s = open("127.0.2." + k)) {
          assertThat(request(s, CONNECT, echo().port()).code()).isZero();
          roundTrip(s, ("after the kill " + k + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
          fail("new session " + k + " after the kill failed: " + e + diagnostics());
        }
        Thread.sleep(100);
      }
      awaitServer(victimName, "DOWN", Duration.ofSeconds(3));
      System.out.printf("kill -9: HAProxy had %s DOWN %d ms after the kill%n", victimName,
          (System.nanoTime() - killed) / 1_000_000);

      List<Stream> done = new ArrayList<>();
      for (Future<Stream> f : streams) {
        done.add(f.get(60, TimeUnit.SECONDS));
      }
      Map<String, String> servers = awaitServersOf(done.stream().map(Stream::client).toList());
      List<Stream> onVictim = done.stream().filter(s -> servers.get(s.client()).equals(victimName)).toList();
      List<Stream> onSurvivors = done.stream().filter(s -> !servers.get(s.client()).equals(victimName)).toList();
      System.out.printf("kill -9: %d streams on the killed node (all failed: %s), %d on the others%n", onVictim.size(),
          onVictim.stream().noneMatch(Stream::intact), onSurvivors.size());
      assertThat(onSurvivors).as("every stream on a surviving node arrives intact%s", diagnostics())
          .allMatch(Stream::intact);
      assertThat(onVictim).as("streams on the killed node (leastconn spreads 20 over 3)").isNotEmpty()
          .noneMatch(Stream::intact);
    } finally {
      pool.shutdownNow();
    }
    startNode(victim);
    awaitReady(victim, Duration.ofSeconds(60));
    awaitServer(victimName, "UP", Duration.ofSeconds(10));
  }

  @Test
  @Order(9)
  @Timeout(value = 170, unit = TimeUnit.SECONDS)
  void rollingRestartFailsNoSession() throws Exception {
    awaitAllUp();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger newOk = new AtomicInteger();
    ConcurrentLinkedQueue<String> newFailures = new ConcurrentLinkedQueue<>();
    long t0 = System.nanoTime();
    Thread prober = new Thread(() -> {
      // Bounded: at most 4,000 sessions, one every 50 ms, until told to stop.
      for (int i = 0; i < 4000 && !stop.get(); i++) {
        long next = System.nanoTime() + 50_000_000L;
        String source = "127.0.3." + (1 + i % 200);
        try (Socket s = open(source)) {
          Reply r = request(s, CONNECT, echo().port());
          if (r.code() != 0) {
            throw new IOException("reply " + r.code());
          }
          roundTrip(s, ("probe " + i + "\n").getBytes(StandardCharsets.US_ASCII));
          newOk.incrementAndGet();
        } catch (IOException | RuntimeException e) {
          newFailures.add(String.format("%.2f s: session %d from %s: %s", (System.nanoTime() - t0) / 1e9, i, source, e));
        }
        long sleep = next - System.nanoTime();
        if (sleep > 0) {
          try {
            Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }, "new-sessions");
    ConcurrentLinkedQueue<Stream> longSessions = new ConcurrentLinkedQueue<>();
    List<Thread> slow = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      int worker = w;
      slow.add(new Thread(() -> {
        // Bounded: at most 60 sessions of about 4 s each, until told to stop.
        for (int i = 0; i < 60 && !stop.get(); i++) {
          longSessions.add(stream("127.0.4." + (1 + worker * 50 + i % 50), 40, 1024, 100, c -> { }));
        }
      }, "long-sessions-" + w));
    }
    prober.start();
    slow.forEach(Thread::start);
    long[] sigterms = new long[3];
    ExecutorService pool = Executors.newCachedThreadPool();
    List<Future<Stream>> witnesses = new ArrayList<>();
    try {
      Thread.sleep(2000);
      for (int i = 0; i < 3; i++) {
        String name = "node" + (i + 1);
        // A witness: a slow session (about 5 s: longer than drain.grace, shorter than grace + timeout) that HAProxy
        // sent to this node, open when it gets SIGTERM. Sessions HAProxy sends elsewhere meanwhile just run.
        String witness = null;
        for (int k = 0; k < 8 && witness == null; k++) {
          CompletableFuture<String> relaying = new CompletableFuture<>();
          String source = "127.0.5." + (i * 10 + k + 1);
          witnesses.add(pool.submit(() -> stream(source, 50, 1024, 100, relaying::complete)));
          String client = relaying.get(15, TimeUnit.SECONDS);
          if (client != null && name.equals(liveServerOf(client))) {
            witness = client;
          }
        }
        assertThat(witness).as("a session HAProxy sent to %s%s", name, diagnostics()).isNotNull();
        sigterms[i] = System.nanoTime();
        nodes[i].process.destroy(); // SIGTERM
        long termAt = System.nanoTime();
        int n = i;
        NodeProcess.poll(Duration.ofSeconds(2), () -> readiness(n).status() == 503);
        assertThat(readiness(i).body()).as("readiness while draining").contains("\"status\":\"not ready\"").contains("draining");
        System.out.printf("rolling restart: %s readiness 503 %d ms after SIGTERM%n", name, (System.nanoTime() - termAt) / 1_000_000);
        awaitServer(name, "DOWN", GRACE);
        System.out.printf("rolling restart: %s DOWN in HAProxy %d ms after SIGTERM%n", name, (System.nanoTime() - termAt) / 1_000_000);
        assertThat(nodes[i].process.waitFor(GRACE.plus(DRAIN_TIMEOUT).toSeconds() + 10, TimeUnit.SECONDS))
            .as("%s exits after its drain%s", name, diagnostics()).isTrue();
        System.out.printf("rolling restart: %s exited (%d) %d ms after SIGTERM%n", name, nodes[i].process.exitValue(),
            (System.nanoTime() - termAt) / 1_000_000);
        assertThat(nodes[i].process.exitValue()).as("%s's exit code%s", name, diagnostics()).isZero();
        String drained = nodes[i].log();
        assertThat(drained.lines().filter(l -> l.contains("drain:")).count()).as("%s logs its drain steps%n%s", name, drained)
            .isGreaterThanOrEqualTo(3);
        assertThat(drained).as("%s waited for the witness %s after it stopped accepting", name, witness)
            .containsPattern("drain: stopped accepting; waiting up to " + DRAIN_TIMEOUT.toSeconds() + "s for [1-9]\\d* open sessions")
            .doesNotContain("drain timeout");
        startNode(i);
        awaitReady(i, Duration.ofSeconds(60));
        awaitServer(name, "UP", Duration.ofSeconds(10));
      }
      Thread.sleep(1000);
    } finally {
      stop.set(true);
      prober.join(20_000);
      for (Thread t : slow) {
        t.join(20_000);
      }
      pool.shutdown();
    }
    for (Future<Stream> w : witnesses) {
      longSessions.add(w.get(30, TimeUnit.SECONDS));
    }
    System.out.printf("rolling restart: %d new sessions, %d failed; %d long sessions%n", newOk.get(), newFailures.size(),
        longSessions.size());
    assertThat(newFailures).as("new sessions that failed during the rolling restart%s", diagnostics()).isEmpty();
    assertThat(newOk.get()).as("new sessions every 50 ms").isGreaterThan(100);
    assertThat(longSessions).as("long sessions and witnesses (4-5 s, shorter than drain.grace + drain.timeout) all intact%s",
        diagnostics())
        .allMatch(Stream::intact);
    // The drain was really exercised: some long sessions were open on a node when it got SIGTERM.
    Map<String, String> servers = awaitServersOf(longSessions.stream().map(Stream::client).toList());
    long drainedSessions = longSessions.stream().filter(s -> {
      long term = sigterms[Integer.parseInt(servers.get(s.client()).substring(4)) - 1];
      return s.startNanos() < term && s.endNanos() > term;
    }).count();
    System.out.printf("rolling restart: %d long sessions were open on a node when it got SIGTERM, and completed%n", drainedSessions);
    assertThat(drainedSessions).as("long sessions open on a node at its SIGTERM").isPositive();
  }

  // --- SOCKS by hand --------------------------------------------------------------------------------------------

  /** A connection to the balancer from {@code source} (a loopback address). */
  static Socket open(String source) throws IOException {
    Socket s = new Socket();
    try {
      s.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
      s.connect(new InetSocketAddress(LoopbackTargets.IPV4, frontPort), 5000);
      s.setSoTimeout(10_000);
      return s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  /** No-auth greeting, then {@code cmd} to 127.0.0.1:port; the (first) reply. */
  static Reply request(Socket s, int cmd, int port) throws IOException {
    RawClient c = new RawClient(s);
    int method = c.greet(0);
    if (method != 0) {
      throw new IOException("method reply " + method);
    }
    return c.request(cmd, port);
  }

  static void roundTrip(Socket s, byte[] payload) throws IOException {
    s.getOutputStream().write(payload);
    byte[] back = s.getInputStream().readNBytes(payload.length);
    if (!Arrays.equals(back, payload)) {
      throw new IOException("echo returned " + back.length + " of " + payload.length + " bytes, or other bytes");
    }
  }

  /** The next byte, or -1 when the peer closed or reset; fails when nothing comes within the socket timeout. */
  static int readOrEnd(Socket s) throws IOException {
    try {
      return s.getInputStream().read();
    } catch (SocketTimeoutException e) {
      throw e;
    } catch (IOException reset) {
      return -1;
    }
  }

  /** One relayed session through the balancer to the echo target: what was sent and what came back, compared. */
  record Stream(String client, boolean intact, String error, long startNanos, long endNanos) {
  }

  /**
   * CONNECT to the echo target from {@code source}, then {@code chunks} chunks of seeded random bytes, each read back
   * before the next, {@code pauseMs} apart; then a FIN and the echo's end. Intact when the SHA-256 of everything
   * received equals that of everything sent. Never throws: a failure is an outcome. {@code relaying} is told the
   * client's {@code ip:port} once the CONNECT succeeded, or null when it did not.
   */
  static Stream stream(String source, int chunks, int chunkSize, long pauseMs, Consumer<String> relaying) {
    long start = System.nanoTime();
    String client = source + ":?";
    boolean told = false;
    try (Socket s = open(source)) {
      client = source + ":" + s.getLocalPort();
      Reply r = request(s, CONNECT, echo().port());
      told = true;
      relaying.accept(r.code() == 0 ? client : null);
      if (r.code() != 0) {
        return new Stream(client, false, "reply " + r.code(), start, System.nanoTime());
      }
      MessageDigest sent = LoopbackTargets.digest();
      MessageDigest received = LoopbackTargets.digest();
      Random random = new Random(client.hashCode());
      byte[] chunk = new byte[chunkSize];
      long total = 0;
      for (int i = 0; i < chunks; i++) {
        random.nextBytes(chunk);
        sent.update(chunk);
        s.getOutputStream().write(chunk);
        byte[] back = s.getInputStream().readNBytes(chunkSize);
        received.update(back);
        total += back.length;
        if (back.length < chunkSize) {
          return new Stream(client, false, "ended after " + total + " bytes", start, System.nanoTime());
        }
        Thread.sleep(pauseMs);
      }
      s.shutdownOutput();
      int after = s.getInputStream().read();
      boolean intact = MessageDigest.isEqual(sent.digest(), received.digest()) && after == -1;
      return new Stream(client, intact, intact ? null : "digest differs or extra bytes", start, System.nanoTime());
    } catch (IOException | InterruptedException e) {
      return new Stream(client, false, e.toString(), start, System.nanoTime());
    } finally {
      if (!told) {
        relaying.accept(null);
      }
    }
  }

  // --- what the balancer and the nodes say ----------------------------------------------------------------------

  record Http(int status, String body) {
  }

  static Http readiness(int node) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPorts[node] + "/health/ready"))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
      return new Http(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Http(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Http(-1, e.toString());
    }
  }

  /** HAProxy's view of each node of the backend ({@code show stat}): node1 → UP, DOWN, ... */
  static Map<String, String> serverStatus() {
    Map<String, String> status = new HashMap<>();
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(LoopbackTargets.IPV4, statsPort), 2000);
      s.setSoTimeout(2000);
      s.getOutputStream().write("show stat\n".getBytes(StandardCharsets.US_ASCII));
      String csv = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      List<String> lines = csv.lines().toList();
      if (lines.isEmpty() || !lines.get(0).startsWith("# ")) {
        return status;
      }
      List<String> header = List.of(lines.get(0).substring(2).split(","));
      int name = header.indexOf("svname");
      int state = header.indexOf("status");
      for (String l : lines.subList(1, lines.size())) {
        String[] f = l.split(",", -1);
        if (f.length > state && f[0].equals("vxsocks_nodes") && f[name].startsWith("node")) {
          status.put(f[name], f[state]);
        }
      }
    } catch (IOException e) {
      // not answering yet
    }
    return status;
  }

  static void awaitServer(String name, String status, Duration within) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (!status.equals(serverStatus().get(name))) {
      if (System.nanoTime() - deadline > 0) {
        fail("HAProxy does not have " + name + " " + status + " within " + within + ": " + serverStatus() + diagnostics());
      }
      Thread.sleep(50);
    }
  }

  static void awaitAllUp() throws Exception {
    for (int n = 1; n <= 3; n++) {
      awaitServer("node" + n, "UP", Duration.ofSeconds(10));
    }
  }

  /** The node HAProxy is relaying the open session of {@code client} ({@code ip:port}) to ({@code show sess}), or null. */
  static String liveServerOf(String client) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(LoopbackTargets.IPV4, statsPort), 2000);
      s.setSoTimeout(2000);
      s.getOutputStream().write("show sess\n".getBytes(StandardCharsets.US_ASCII));
      String sessions = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      Matcher m = Pattern.compile(" src=" + Pattern.quote(client) + " fe=socks be=vxsocks_nodes srv=(node\\d) ").matcher(sessions);
      return m.find() ? m.group(1) : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** The node HAProxy sent each client ({@code ip:port}) to, from its tcplog lines (written as sessions end). */
  static Map<String, String> awaitServersOf(List<String> clients) throws Exception {
    Map<String, String> servers = new HashMap<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      Matcher m = TCPLOG.matcher(read(DIR.resolve("haproxy.log")));
      while (m.find()) {
        servers.put(m.group(1) + ":" + m.group(2), m.group(3));
      }
      List<String> missing = clients.stream().filter(c -> !servers.containsKey(c)).toList();
      if (missing.isEmpty()) {
        return servers;
      }
      if (System.nanoTime() - deadline > 0) {
        return fail("no HAProxy log line for " + missing + diagnostics());
      }
      Thread.sleep(100);
    }
  }

  private static Path nodeLog(int i) {
    return DIR.resolve("node-" + (i + 1) + ".log");
  }

  private static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "";
    }
  }

  private static String nodeLogs() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      b.append(read(nodeLog(i)));
    }
    return b.toString();
  }

  /** Waits (at most 10 s) for a session line matching {@code p} in any node's log. */
  static void awaitNodeLog(Pattern p) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!p.matcher(nodeLogs()).find()) {
      if (System.nanoTime() - deadline > 0) {
        fail("no node logged a line matching " + p + diagnostics());
      }
      Thread.sleep(100);
    }
  }

  /** The last lines of HAProxy's log and of each node's, for assertion messages. */
  static String diagnostics() {
    StringBuilder b = new StringBuilder();
    b.append("\n--- HAProxy (").append(DIR.resolve("haproxy.log")).append("), last 40 lines:\n")
        .append(tail(read(DIR.resolve("haproxy.log")), 40));
    for (int i = 0; i < 3; i++) {
      b.append("\n--- node ").append(i + 1).append(" (").append(nodeLog(i)).append("), last 30 lines:\n")
          .append(tail(read(nodeLog(i)), 30));
    }
    return b.toString();
  }

  private static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }
}
