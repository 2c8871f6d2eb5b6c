package dev.vxsocks.launcher;

import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.Bytes.bytes;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /metrics} after a known mix of sessions: the exact increments of each counter; then a real Prometheus
 * (Debian's {@code prometheus}) scraping two nodes, queried over its HTTP API, and {@code promtool check metrics}.
 */
class MetricsTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final List<Vertx> vertxes = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  /** A node in this JVM with its admin port, on a Vert.x of its own; returns {socks port, admin port}. */
  private int[] node(JsonObject config) throws Exception {
    Vertx vertx = Vertx.vertx();
    vertxes.add(vertx);
    NodeMetrics metrics = new NodeMetrics();
    Readiness readiness = new Readiness(null, ProxyConfig.Cluster.DISABLED);
    int admin = AdminServer.start(vertx, "127.0.0.1", 0, readiness, metrics).await(10, TimeUnit.SECONDS).actualPort();
    Node node = Node.start(vertx, ProxyConfig.fromJson(config), "test-version", TestProxy.INSTANCES, null, metrics)
        .await(20, TimeUnit.SECONDS);
    readiness.listening();
    return new int[] {node.port(), admin};
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    for (Vertx v : vertxes) {
      v.close().await(20, TimeUnit.SECONDS);
    }
  }

  private static JsonObject config() {
    return TestProxy.baseConfig()
        .put("auth", new JsonObject().put("methods", new JsonArray().add("username-password")))
        .put("timeouts", new JsonObject().put("handshake", "10s"));
  }

  private static String scrape(int adminPort) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    return r.body();
  }

  /** The value of the series {@code name{labels}} ({@code labels} exactly as exposed, e.g. {@code a="x",b="y"}). */
  private static double value(String exposition, String name, String labels) {
    String prefix = name + (labels.isEmpty() ? "" : "{" + labels + ",}");
    String prefixNoComma = name + (labels.isEmpty() ? "" : "{" + labels + "}");
    for (String line : exposition.lines().toList()) {
      if (line.startsWith(prefix + " ") || line.startsWith(prefixNoComma + " ")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  private static RawClient loggedIn(int port, String password) throws IOException {
    RawClient c = new RawClient(port);
    assertThat(c.greet(2)).isEqualTo(2);
    assertThat(c.login(TestProxy.USER, password)).as("login status").isEqualTo(password.equals(TestProxy.PASSWORD) ? 0 : 1);
    return c;
  }

  @Test
  void aKnownMixOfSessionsMovesEachCounterByExactlyItsShare() throws Exception {
    int[] ports = node(config());
    TcpTarget echo = TcpTarget.echo("127.0.0.1");
    closeables.add(echo);
    String before = scrape(ports[1]);

    for (int i = 0; i < 2; i++) {
      try (RawClient c = loggedIn(ports[0], TestProxy.PASSWORD)) {
        assertThat(c.request(RawClient.CONNECT, echo.port()).code()).isZero();
        c.send("hello".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(c.read(5), StandardCharsets.US_ASCII)).isEqualTo("hello");
      }
    }
    try (RawClient c = loggedIn(ports[0], TestProxy.PASSWORD)) {
      c.send(RawClient.connectIpv4(127, 0, 0, 66, echo.port()));
      assertThat(c.reply().code()).as("a rule denies 127.0.0.66").isEqualTo(2);
    }
    try (RawClient c = loggedIn(ports[0], "wrong-password")) {
      c.expectClosed();
    }
    try (RawClient c = loggedIn(ports[0], TestProxy.PASSWORD)) {
      assertThat(c.request(RawClient.CONNECT, LoopbackTargets.closedPort()).code()).as("refused").isEqualTo(5);
    }
    try (RawClient c = loggedIn(ports[0], TestProxy.PASSWORD); DatagramSocket udp = new DatagramSocket(
        new InetSocketAddress("127.0.0.1", 0))) {
      RawClient.Reply reply = c.request(RawClient.UDP_ASSOCIATE, 0);
      assertThat(reply.code()).isZero();
      byte[] malformed = bytes(0, 0, 0, 9);
      udp.send(new DatagramPacket(malformed, malformed.length, new InetSocketAddress(reply.address(), reply.port())));
      Thread.sleep(200);
    }

    String after = before;
    long deadline = System.currentTimeMillis() + 10_000;
    while (System.currentTimeMillis() < deadline) {
      after = scrape(ports[1]);
      if (value(after, "vxsocks_sessions_ended_total", "command=\"udp-associate\",reply=\"succeeded\"") >= 1
          && value(after, "vxsocks_sessions_open", "command=\"connect\"") == 0) {
        break;
      }
      Thread.sleep(100);
    }
    String b = before;
    String a = after;
    record Series(String name, String labels, double delta) {
    }
    for (Series s : List.of(
        new Series("vxsocks_sessions_ended_total", "command=\"connect\",reply=\"succeeded\"", 2),
        new Series("vxsocks_sessions_ended_total", "command=\"connect\",reply=\"not-allowed\"", 1),
        new Series("vxsocks_sessions_ended_total", "command=\"connect\",reply=\"connection-refused\"", 1),
        new Series("vxsocks_sessions_ended_total", "command=\"none\",reply=\"none\"", 1),
        new Series("vxsocks_sessions_ended_total", "command=\"udp-associate\",reply=\"succeeded\"", 1),
        new Series("vxsocks_auth_results_total", "method=\"username-password\",outcome=\"ok\"", 5),
        new Series("vxsocks_auth_results_total", "method=\"username-password\",outcome=\"bad-credentials\"", 1),
        new Series("vxsocks_refusals_total", "cause=\"request-rule\"", 1),
        new Series("vxsocks_relayed_bytes_total", "direction=\"up\"", 10),
        new Series("vxsocks_relayed_bytes_total", "direction=\"down\"", 10),
        new Series("vxsocks_udp_dropped_total", "reason=\"malformed\"", 1),
        new Series("vxsocks_sessions_open", "command=\"connect\"", 0),
        new Series("vxsocks_sessions_open", "command=\"none\"", 0))) {
      assertThat(value(a, s.name(), s.labels()) - value(b, s.name(), s.labels()))
          .as("%s{%s}%n%s", s.name(), s.labels(), a.lines().filter(l -> l.startsWith("vxsocks_")).toList())
          .isEqualTo(s.delta());
    }
    // Four CONNECT attempts reached a destination; five successful handshakes; answers from the auth verticle.
    assertThat(value(a, "vxsocks_upstream_connect_seconds_count", "") - value(b, "vxsocks_upstream_connect_seconds_count", ""))
        .isEqualTo(3);
    assertThat(value(a, "vxsocks_handshake_seconds_count", "") - value(b, "vxsocks_handshake_seconds_count", ""))
        .isEqualTo(3);
    assertThat(value(a, "vxsocks_auth_round_trip_seconds_count", "")).isPositive();
    assertThat(value(a, "vxsocks_config_version", "version=\"test-version\""))
        .as("%s", a.lines().filter(l -> l.contains("config")).toList()).isEqualTo(1);
    assertThat(a).contains("jvm_memory_used_bytes", "process_cpu_usage", "process_files_open_files");
    // Never a user name, client address or destination as a label.
    assertThat(a.lines().filter(l -> l.startsWith("vxsocks_")).toList())
        .noneMatch(l -> l.contains(TestProxy.USER) || l.contains("127.0.0."));
  }

  @Test
  void aRealPrometheusScrapesTwoNodesAndPromtoolAcceptsTheExposition() throws Exception {
    Path bin = Path.of("/usr/bin/prometheus");
    assertThat(bin).as("Debian's prometheus (./scripts/test.sh installs it)").exists();
    int[] one = node(config());
    int[] two = node(config());
    TcpTarget echo = TcpTarget.echo("127.0.0.1");
    closeables.add(echo);
    for (int[] node : List.of(one, two)) {
      try (RawClient c = loggedIn(node[0], TestProxy.PASSWORD)) {
        assertThat(c.request(RawClient.CONNECT, echo.port()).code()).isZero();
      }
    }
    // promtool reads the exposition from standard input.
    Process check = new ProcessBuilder("/usr/bin/promtool", "check", "metrics").redirectErrorStream(true).start();
    check.getOutputStream().write(scrape(one[1]).getBytes(StandardCharsets.UTF_8));
    check.getOutputStream().close();
    assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String lint = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(check.exitValue()).as("promtool check metrics:%n%s", lint).isZero();

    Path dir = Files.createTempDirectory(Path.of("target"), "prometheus-");
    int web = LoopbackTargets.freePort();
    Files.writeString(dir.resolve("prometheus.yml"), String.join("\n",
        "global: { scrape_interval: 1s, scrape_timeout: 1s }",
        "scrape_configs:",
        "  - job_name: vxsocks",
        "    static_configs:",
        "      - targets: ['127.0.0.1:" + one[1] + "', '127.0.0.1:" + two[1] + "']",
        ""));
    Process prometheus = new ProcessBuilder(bin.toString(), "--config.file=" + dir.resolve("prometheus.yml"),
        "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + web)
        .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    closeables.add(() -> {
      prometheus.destroy();
      if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
        prometheus.destroyForcibly();
      }
    });
    String query = "http://127.0.0.1:" + web + "/api/v1/query?query="
        + "sum%20by%20(instance)%20(vxsocks_sessions_ended_total%7Breply%3D%22succeeded%22%7D)";
    String answer = "";
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      try {
        answer = HTTP.send(HttpRequest.newBuilder(URI.create(query)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        JsonArray result = new JsonObject(answer).getJsonObject("data").getJsonArray("result");
        if (result.size() == 2) {
          for (int i = 0; i < 2; i++) {
            assertThat(result.getJsonObject(i).getJsonArray("value").getString(1)).as(answer).isEqualTo("1");
          }
          return;
        }
      } catch (IOException | RuntimeException notYet) {
        answer = String.valueOf(notYet);
      }
      Thread.sleep(500);
    }
    throw new AssertionError("Prometheus did not report both nodes within 30 s; last answer: " + answer
        + "\n" + Files.readString(dir.resolve("prometheus.log")));
  }
}
