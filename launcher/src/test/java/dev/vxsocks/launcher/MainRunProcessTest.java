package dev.vxsocks.launcher;

import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.SharedTargets;
import dev.vxsocks.testing.TestProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Authenticator;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.vxsocks.launcher.NodeProcess.LISTENING;
import static dev.vxsocks.testing.Bytes.bytes;
import static dev.vxsocks.testing.Bytes.concat;
import static dev.vxsocks.testing.RawClient.connectIpv4;
import static dev.vxsocks.testing.RawClient.passwordRequest;
import static dev.vxsocks.testing.SharedTargets.echo;
import static dev.vxsocks.testing.SharedTargets.http;
import static dev.vxsocks.testing.TestProxy.PASSWORD;
import static dev.vxsocks.testing.TestProxy.USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code vxsocks run} as a real process (the shaded jar after {@code mvn package}, else the test class path): it
 * starts on port 0, curl fetches a page through it, and SIGTERM stops it through its shutdown hook.
 */
@ExtendWith(SharedTargets.class)
class MainRunProcessTest {

  @TempDir
  Path dir;

  private Path config(String listenPort, String extra) throws IOException {
    return Files.writeString(dir.resolve("vxsocks-" + System.nanoTime() + ".yaml"), String.join("\n",
        "listen: { host: 127.0.0.1, port: " + listenPort + " }",
        "auth: { methods: [username-password] }",
        "users:",
        "  - { name: " + USER + ", password: \"" + TestProxy.PASSWORD_HASH + "\" }",
        "rules:",
        "  request:",
        "    - { action: allow, to: [\"127.0.0.0/8\", \"::1/128\", \"localhost\"] }",
        extra.contains("admin:") ? "" : "admin: { port: 0 }",
        extra.contains("drain:") ? "" : "drain: { grace: 0s, timeout: 1s }",
        extra,
        ""));
  }

  /** {@code vxsocks args} as a process, its output in a file of this test's directory. */
  private NodeProcess node(Map<String, String> env, String... args) throws Exception {
    return NodeProcess.start(NodeProcess.vxsocks(args), env, Files.createTempFile(dir, "node", ".log"));
  }

  private NodeProcess node(String... args) throws Exception {
    return node(Map.of(), args);
  }

  @Test
  void runServesCurlAndStopsOnSigterm() throws Exception {
    try (NodeProcess node = node("run", "--config", config("0", "").toString(), "--log-level", "FINE")) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("the node exited\nstderr:\n" + node.log()).isNotNull();
      int port = Integer.parseInt(listening.group(1));

      List<String> cmd = CurlClientTest.curl("--socks5-hostname", "127.0.0.1:" + port);
      cmd.addAll(List.of("--proxy-user", USER + ":" + PASSWORD, "http://localhost:" + http().port() + "/hello"));
      Clients.Result r = Clients.run(cmd, new byte[0]);
      assertThat(r.exit()).as(r.describe() + "\nnode stderr:\n" + node.log()).isZero();
      assertThat(r.out()).isEqualTo("hello via 127.0.0.1\n");
      assertThat(node.await(Pattern.compile("user=alice cmd=connect target=localhost:" + http().port() + " reply=succeeded")))
          .as(node.log()).isNotNull();

      node.process.destroy(); // SIGTERM: a drain, then exit code 0
      assertThat(node.exit()).as(node.log()).isZero();
      assertThat(node.log()).doesNotContain(PASSWORD).doesNotContain("\tat ");
    }
  }

  /** {@code log.format: json}: one JSON object per line, the summary line's fields as fields, numbers as numbers. */
  @Test
  void jsonLogsCarryTheSummaryLinesFields() throws Exception {
    try (NodeProcess node = node("run", "--config", config("0", "log: { format: json }").toString())) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("the node exited\nstderr:\n" + node.log()).isNotNull();
      int port = Integer.parseInt(listening.group(1));
      List<String> cmd = CurlClientTest.curl("--socks5-hostname", "127.0.0.1:" + port);
      cmd.addAll(List.of("--proxy-user", USER + ":" + PASSWORD, "http://localhost:" + http().port() + "/hello"));
      Clients.Result r = Clients.run(cmd, new byte[0]);
      assertThat(r.exit()).as(r.describe() + "\nnode stderr:\n" + node.log()).isZero();
      assertThat(node.await(Pattern.compile("\"reply\":\"succeeded\""))).as(node.log()).isNotNull();
      io.vertx.core.json.JsonObject summary = null;
      for (String line : node.log().lines().toList()) {
        io.vertx.core.json.JsonObject o = new io.vertx.core.json.JsonObject(line); // every line is one object
        assertThat(o.getString("time")).endsWith("Z");
        if (o.containsKey("session")) {
          summary = o;
        }
      }
      assertThat(summary).as(node.log()).isNotNull();
      assertThat(summary.getString("logger")).isEqualTo("dev.vxsocks.session");
      assertThat(summary.getString("user")).isEqualTo(USER);
      assertThat(summary.getString("cmd")).isEqualTo("connect");
      assertThat(summary.getString("target")).isEqualTo("localhost:" + http().port());
      assertThat(summary.getLong("up")).isPositive();
      assertThat(summary.getLong("down")).isPositive();
      assertThat(summary.getLong("duration_ms")).isNotNegative();
      assertThat(summary.getString("close")).isEqualTo("completed");
      assertThat(summary.getString("message")).startsWith("session=");
      node.process.destroy();
      assertThat(node.exit()).as(node.log()).isZero();
    }
  }

  /**
   * On SIGTERM the drain logs each step, and the sessions it ends at drain.timeout get their summary lines
   * (close="drain timeout"). All must reach stderr: java.util.logging's own shutdown hook would reset its handlers
   * and drop them if they were written from a shutdown hook.
   */
  @Test
  void sigtermLogsTheStopAndEverySessionItEnds() throws Exception {
    try (NodeProcess node = node("run", "--config", config("0", "").toString())) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("the node exited\nstderr:\n" + node.log()).isNotNull();
      int port = Integer.parseInt(listening.group(1));
      Authenticator.setDefault(new JdkSocksClientTest.RecordingAuthenticator(PASSWORD));
      try (Socket held = new Socket(new Proxy(Proxy.Type.SOCKS, new InetSocketAddress(LoopbackTargets.IPV4, port)))) {
        held.setSoTimeout(JdkSocksClientTest.TIMEOUT_MS);
        held.connect(new InetSocketAddress(LoopbackTargets.IPV4, echo().port()), JdkSocksClientTest.TIMEOUT_MS);
        held.getOutputStream().write('x');
        assertThat(held.getInputStream().read()).isEqualTo('x'); // relaying

        node.process.destroy(); // SIGTERM
        assertThat(node.exit()).as(node.log()).isZero();
      } finally {
        Authenticator.setDefault(null);
      }
      assertThat(node.log()).as("shutdown lines lost").contains("drain: SIGTERM: readiness is 503")
          .contains("drain: closing 1 sessions still open (drain timeout)").contains("drain: done")
          .contains("user=alice cmd=connect target=127.0.0.1:" + echo().port() + " reply=succeeded")
          .contains("close=\"drain timeout\"");
    }
  }

  /**
   * Under G1 the node lets the heap a burst grew go back (HeapReturn): the start-up line reports the flags as the
   * running JVM has them, and a flag the operator gave stays as given.
   */
  @Test
  void runSetsG1HeapReturnUnlessTheCommandLineSaysOtherwise() throws Exception {
    assertStartUpLine("-XX:+UseG1GC",
        "heap: a G1 collection after 5000 ms without one (once per quiet spell); G1 keeps 10-30 % of the heap free\n");
    assertStartUpLine("-XX:+UseG1GC -XX:G1PeriodicGCInterval=0", "heap: no periodic G1 collection; G1 keeps 10-30 % of"
        + " the heap free (left as the command line has them: G1PeriodicGCInterval)\n");
    assertStartUpLine("-XX:+UseSerialGC", "heap: not G1; JVM heap settings left as they are\n");
  }

  /** Starts a node with these JVM options and waits for {@code line}, which the log writer may write after "listening". */
  private void assertStartUpLine(String jvmOptions, String line) throws Exception {
    try (NodeProcess node = node(Map.of("JAVA_TOOL_OPTIONS", jvmOptions), "run", "--config", config("0", "").toString())) {
      assertThat(node.await(LISTENING)).as(node.log()).isNotNull();
      assertThat(node.await(Pattern.compile(Pattern.quote(line)))).as("with %s:%n%s", jvmOptions, node.log()).isNotNull();
    }
  }

  @Test
  void runWithAPortInUseIsOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, LoopbackTargets.IPV4);
         NodeProcess node = node("run", "--config", config(String.valueOf(taken.getLocalPort()), "").toString())) {
      assertThat(node.exit()).as(node.log()).isEqualTo(1);
      assertThat(node.log().lines()).as(node.log()).hasSize(1);
      assertThat(node.log().trim()).isEqualTo("vxsocks: cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": address already in use");
    }
  }

  @Test
  void runWithABadConfigIsOneLine() throws Exception {
    try (NodeProcess node = node("run", "--config", config("0", "limits: { sessions-per-user: -1 }").toString())) {
      assertThat(node.exit()).as(node.log()).isEqualTo(2);
      assertThat(node.log().lines()).as(node.log()).hasSize(1);
      assertThat(node.log()).startsWith("vxsocks: config error: limits.sessions-per-user: ");
    }
  }

  @Test
  void aClusterNodeWithoutItsMemoSecretFileStopsBeforeJoining() throws Exception {
    Path missing = dir.resolve("no-such-memo.secret");
    int hz = LoopbackTargets.freePort();
    String cluster = "cluster: { enabled: true, name: memo-" + System.nanoTime() + ", port: " + hz
        + ", members: [\"127.0.0.1:" + hz + "\"], join-wait: 0s, memo-secret-file: \"" + missing + "\" }";
    try (NodeProcess node = node("run", "--config", config("0", cluster).toString())) {
      assertThat(node.exit()).as(node.log()).isEqualTo(2);
      assertThat(node.log().lines()).as(node.log()).hasSize(1);
      assertThat(node.log()).isEqualTo("vxsocks: config error: cluster.memo-secret-file: no such file: " + missing + "\n");
    }
  }

  /**
   * "Errors are one line on standard error and a non-zero exit code: 2 for a bad command line" (Main's javadoc):
   * an unknown --log-level is a bad command line, but today the node starts anyway, after java.util.logging prints
   * "Bad level value for property" three times, and runs with the default levels.
   */
  @Test
  void runRefusesAnUnknownLogLevel() throws Exception {
    try (NodeProcess node = node("run", "--config", config("0", "").toString(), "--log-level", "LOUD")) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("started despite --log-level LOUD; stderr:\n" + node.log()).isNull();
      assertThat(node.exit()).as(node.log()).isEqualTo(2);
      assertThat(node.log()).as(node.log()).startsWith("vxsocks: ").contains("--log-level");
    }
  }

  private static final Pattern ADMIN = Pattern.compile("admin on 127\\.0\\.0\\.1:(\\d+)");

  /** GET http://127.0.0.1:{@code port}{@code path} with the JDK's client: status and body. */
  private static String get(int port, String path) throws Exception {
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
            .timeout(java.time.Duration.ofSeconds(5)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body().trim();
  }

  /** A relaying session to the echo target, by hand: greeting, RFC 1929 login, CONNECT, success reply. */
  private static Socket session(int proxyPort) throws IOException {
    Socket s = new Socket(LoopbackTargets.IPV4, proxyPort);
    s.setSoTimeout(JdkSocksClientTest.TIMEOUT_MS);
    int port = echo().port();
    s.getOutputStream().write(concat(bytes(5, 1, 2), passwordRequest(USER, PASSWORD), connectIpv4(127, 0, 0, 1, port)));
    byte[] answer = new java.io.DataInputStream(s.getInputStream()).readNBytes(14);
    assertThat(answer).as("method, auth status, reply").startsWith(5, 2, 1, 0, 5, 0);
    return s;
  }

  private static void roundTrip(Socket s, char c) throws IOException {
    s.getOutputStream().write(c);
    assertThat(s.getInputStream().read()).isEqualTo(c);
  }

  /**
   * The drain as a balancer sees it: readiness 503 at once while the node still accepts for drain.grace; then no
   * new connection, while open sessions go on relaying; one that ends by itself ends normally, one still open at
   * drain.timeout is closed with its summary line; the process exits 0, having logged every step.
   */
  @Test
  void sigtermDrainsSessionsBeforeExiting() throws Exception {
    String drain = "drain: { grace: 1500ms, timeout: 3s }";
    try (NodeProcess node = node("run", "--config", config("0", "admin: { port: " + LoopbackTargets.freePort() + " }\n" + drain).toString())) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("the node exited\nstderr:\n" + node.log()).isNotNull();
      int port = Integer.parseInt(listening.group(1));
      Matcher admin = node.await(ADMIN);
      int adminPort = Integer.parseInt(admin.group(1));
      assertThat(get(adminPort, "/health/live")).isEqualTo("200 {\"status\":\"live\"}");
      assertThat(get(adminPort, "/health/ready")).isEqualTo("200 {\"status\":\"ready\"}");
      assertThat(get(adminPort, "/metrics")).startsWith("200 ").contains("vxsocks_sessions_open");
      assertThat(get(adminPort, "/nothing")).startsWith("404 ");

      try (Socket ending = session(port); Socket held = session(port)) {
        roundTrip(ending, 'a');
        roundTrip(held, 'b');
        long sigterm = System.nanoTime();
        node.process.destroy(); // SIGTERM
        String ready = null;
        for (int i = 0; i < 50 && !(ready = get(adminPort, "/health/ready")).startsWith("503"); i++) {
          Thread.sleep(20);
        }
        assertThat(ready).isEqualTo("503 {\"status\":\"not ready\",\"reason\":\"draining\"}");
        assertThat(get(adminPort, "/health/live")).startsWith("200 ");
        // Within the grace period the node still takes sessions: the balancer may not have noticed yet.
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm)).isLessThan(1500);
        try (Socket late = session(port)) {
          roundTrip(late, 'c');
        }
        assertThat(node.await(Pattern.compile("drain: stopped accepting; waiting up to 3s for \\d open sessions"))).as(node.log()).isNotNull();
        try (Socket refused = new Socket()) {
          assertThatThrownBy(() -> refused.connect(new InetSocketAddress(LoopbackTargets.IPV4, port), 2000))
              .isInstanceOf(java.net.ConnectException.class);
        }
        // Open sessions still relay, and one that ends now ends normally.
        roundTrip(ending, 'd');
        roundTrip(held, 'e');
        ending.close();
        assertThat(node.await(Pattern.compile("reply=succeeded up=2 down=2 duration=\\d+ms close=\"completed\""))).as(node.log()).isNotNull();
        // The held one is closed at drain.timeout.
        assertThat(held.getInputStream().read()).isEqualTo(-1);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm)).isGreaterThanOrEqualTo(1500 + 3000 - 200);
        assertThat(node.exit()).as(node.log()).isZero();
      }
      assertThat(node.log()).contains("drain: SIGTERM: readiness is 503 from now on; still accepting for 1500ms so the"
              + " load balancer can notice (2 sessions open)")
          .contains("drain: closing 1 sessions still open (drain timeout)")
          .contains("drain: stopping the node").contains("drain: done")
          .containsPattern("up=2 down=2 duration=\\d+ms close=\"drain timeout\"");
    }
  }

  /** A second SIGTERM cuts the drain short: the held session is closed at once, the process exits 0. */
  @Test
  void aSecondSigtermSkipsTheWait() throws Exception {
    try (NodeProcess node = node("run", "--config", config("0", "drain: { grace: 20s, timeout: 60s }").toString())) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("the node exited\nstderr:\n" + node.log()).isNotNull();
      int port = Integer.parseInt(listening.group(1));
      try (Socket held = session(port)) {
        roundTrip(held, 'a');
        node.process.destroy();
        assertThat(node.await(Pattern.compile("drain: SIGTERM: readiness is 503"))).as(node.log()).isNotNull();
        long second = System.nanoTime();
        node.process.destroy();
        assertThat(held.getInputStream().read()).isEqualTo(-1);
        assertThat(node.exit()).as(node.log()).isZero();
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - second)).isLessThan(15);
      }
      assertThat(node.log()).contains("drain: SIGTERM again: skipping the wait, closing 1 open sessions now")
          .contains("close=\"stopped before its end (second stop request)\"").contains("drain: done");
    }
  }

  @Test
  void anAdminPortInUseIsOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, LoopbackTargets.IPV4);
         NodeProcess node = node("run", "--config", config("0", "admin: { port: " + taken.getLocalPort() + " }").toString())) {
      assertThat(node.exit()).as(node.log()).isEqualTo(1);
      assertThat(node.log().trim()).isEqualTo("vxsocks: cannot listen on 127.0.0.1:" + taken.getLocalPort()
          + " (admin): address already in use");
    }
  }
}
