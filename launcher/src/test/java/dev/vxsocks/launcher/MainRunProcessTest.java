package dev.vxsocks.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Authenticator;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.vxsocks.launcher.ProxyFixture.PASSWORD;
import static dev.vxsocks.launcher.ProxyFixture.USER;
import static dev.vxsocks.launcher.SharedTargets.echo;
import static dev.vxsocks.launcher.SharedTargets.http;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * {@code vxsocks run} as a real process (the shaded jar after {@code mvn package}, else the test class path): it
 * starts on port 0, curl fetches a page through it, and SIGTERM stops it through its shutdown hook.
 */
@ExtendWith(SharedTargets.class)
class MainRunProcessTest {

  private static final Pattern LISTENING = Pattern.compile("vxsocks listening on 127\\.0\\.0\\.1:(\\d+) ");
  @TempDir
  Path dir;

  private Path config(String listenPort, String extra) throws IOException {
    return Files.writeString(dir.resolve("vxsocks-" + System.nanoTime() + ".yaml"), String.join("\n",
        "listen: { host: 127.0.0.1, port: " + listenPort + " }",
        "auth: { methods: [username-password] }",
        "users:",
        "  - { name: " + USER + ", password: \"" + ProxyFixture.PASSWORD_HASH + "\" }",
        "rules:",
        "  request:",
        "    - { action: allow, to: [\"127.0.0.0/8\", \"::1/128\", \"localhost\"] }",
        extra,
        ""));
  }

  /** A node process whose standard error goes to a file, read as it grows. */
  private final class NodeProcess implements AutoCloseable {
    final Process process;
    final Path err;
    final List<String> command;

    NodeProcess(String... args) throws Exception {
      this(Map.of(), args);
    }

    NodeProcess(Map<String, String> extraEnv, String... args) throws Exception {
      command = MainCommandTest.vxsocks(args);
      err = Files.createTempFile(dir, "node", ".stderr");
      ProcessBuilder pb = new ProcessBuilder(command)
          .redirectInput(ProcessBuilder.Redirect.from(Files.createTempFile(dir, "node", ".stdin").toFile()))
          .redirectOutput(Files.createTempFile(dir, "node", ".stdout").toFile())
          .redirectError(err.toFile());
      Map<String, String> env = pb.environment();
      env.keySet().removeIf(k -> k.startsWith("VXSOCKS_"));
      env.putAll(extraEnv);
      process = pb.start();
    }

    String stderr() throws IOException {
      return Files.readString(err, StandardCharsets.UTF_8);
    }

    /** Waits (at most 20 s) for a stderr line matching {@code p}, or for the process to end; null if it ended. */
    Matcher await(Pattern p) throws Exception {
      for (int i = 0; i < 200; i++) {
        Matcher m = p.matcher(stderr());
        if (m.find()) {
          return m;
        }
        if (!process.isAlive()) {
          return null;
        }
        Thread.sleep(100);
      }
      return fail("no line matching " + p + " within 20 s\ncommand: " + command + "\nstderr:\n" + stderr());
    }

    /** Waits at most 20 s for the process to exit on its own; its exit code. */
    int exit() throws Exception {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        fail("still running after 20 s\ncommand: " + command + "\nstderr:\n" + stderr());
      }
      return process.exitValue();
    }

    @Override
    public void close() throws Exception {
      if (process.isAlive()) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void runServesCurlAndStopsOnSigterm() throws Exception {
    try (NodeProcess node = new NodeProcess("run", "--config", config("0", "").toString(), "--log-level", "FINE")) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("the node exited\nstderr:\n" + node.stderr()).isNotNull();
      int port = Integer.parseInt(listening.group(1));

      List<String> cmd = CurlClientTest.curl("--socks5-hostname", "127.0.0.1:" + port);
      cmd.addAll(List.of("--proxy-user", USER + ":" + PASSWORD, "http://localhost:" + http().port() + "/hello"));
      Clients.Result r = Clients.run(cmd, new byte[0]);
      assertThat(r.exit()).as(r.describe() + "\nnode stderr:\n" + node.stderr()).isZero();
      assertThat(r.out()).isEqualTo("hello via 127.0.0.1\n");
      assertThat(node.await(Pattern.compile("user=alice cmd=connect target=localhost:" + http().port() + " reply=succeeded")))
          .as(node.stderr()).isNotNull();

      node.process.destroy(); // SIGTERM
      assertThat(node.exit()).as(node.stderr()).isEqualTo(128 + 15);
      assertThat(node.stderr()).doesNotContain(PASSWORD).doesNotContain("\tat ");
    }
  }

  /**
   * On SIGTERM the shutdown hook logs "vxsocks stopping" and closing Vert.x ends the open sessions, each with its
   * summary line (close="proxy stopping"). Both must reach stderr. Today they usually do not: java.util.logging
   * registers its own shutdown hook (LogManager's Cleaner), which runs concurrently with ours and calls
   * LogManager.reset(), removing every handler, so whatever is logged during shutdown is dropped.
   */
  @Test
  void sigtermLogsTheStopAndEverySessionItEnds() throws Exception {
    try (NodeProcess node = new NodeProcess("run", "--config", config("0", "").toString())) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("the node exited\nstderr:\n" + node.stderr()).isNotNull();
      int port = Integer.parseInt(listening.group(1));
      Authenticator.setDefault(new JdkSocksClientTest.RecordingAuthenticator(PASSWORD));
      try (Socket held = new Socket(new Proxy(Proxy.Type.SOCKS, new InetSocketAddress(LoopbackTargets.IPV4, port)))) {
        held.setSoTimeout(JdkSocksClientTest.TIMEOUT_MS);
        held.connect(new InetSocketAddress(LoopbackTargets.IPV4, echo().port()), JdkSocksClientTest.TIMEOUT_MS);
        held.getOutputStream().write('x');
        assertThat(held.getInputStream().read()).isEqualTo('x'); // relaying

        node.process.destroy(); // SIGTERM
        assertThat(node.exit()).as(node.stderr()).isEqualTo(128 + 15);
      } finally {
        Authenticator.setDefault(null);
      }
      assertThat(node.stderr()).as("shutdown lines lost").contains("vxsocks stopping")
          .contains("user=alice cmd=connect target=127.0.0.1:" + echo().port() + " reply=succeeded");
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
    try (NodeProcess node = new NodeProcess(Map.of("JAVA_TOOL_OPTIONS", jvmOptions), "run", "--config", config("0", "").toString())) {
      assertThat(node.await(LISTENING)).as(node.stderr()).isNotNull();
      assertThat(node.await(Pattern.compile(Pattern.quote(line)))).as("with %s:%n%s", jvmOptions, node.stderr()).isNotNull();
    }
  }

  @Test
  void runWithAPortInUseIsOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, LoopbackTargets.IPV4);
         NodeProcess node = new NodeProcess("run", "--config", config(String.valueOf(taken.getLocalPort()), "").toString())) {
      assertThat(node.exit()).as(node.stderr()).isEqualTo(1);
      assertThat(node.stderr().lines()).as(node.stderr()).hasSize(1);
      assertThat(node.stderr().trim()).isEqualTo("vxsocks: cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": address already in use");
    }
  }

  @Test
  void runWithABadConfigIsOneLine() throws Exception {
    try (NodeProcess node = new NodeProcess("run", "--config", config("0", "limits: { sessions-per-user: -1 }").toString())) {
      assertThat(node.exit()).as(node.stderr()).isEqualTo(2);
      assertThat(node.stderr().lines()).as(node.stderr()).hasSize(1);
      assertThat(node.stderr()).startsWith("vxsocks: config error: limits.sessions-per-user: ");
    }
  }

  /**
   * "Errors are one line on standard error and a non-zero exit code: 2 for a bad command line" (Main's javadoc):
   * an unknown --log-level is a bad command line, but today the node starts anyway, after java.util.logging prints
   * "Bad level value for property" three times, and runs with the default levels.
   */
  @Test
  void runRefusesAnUnknownLogLevel() throws Exception {
    try (NodeProcess node = new NodeProcess("run", "--config", config("0", "").toString(), "--log-level", "LOUD")) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("started despite --log-level LOUD; stderr:\n" + node.stderr()).isNull();
      assertThat(node.exit()).as(node.stderr()).isEqualTo(2);
      assertThat(node.stderr()).as(node.stderr()).startsWith("vxsocks: ").contains("--log-level");
    }
  }
}
