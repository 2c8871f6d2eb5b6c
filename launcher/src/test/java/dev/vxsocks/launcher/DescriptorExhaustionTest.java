package dev.vxsocks.launcher;

import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.vxsocks.launcher.NodeProcess.LISTENING;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hardening item 7, for real: a node process whose descriptor limit is {@link #NOFILE} ({@code ulimit -n}), with
 * {@code limits.sessions-total} and the source shares off so that nothing stops it before the kernel does, gets twice
 * that many silent connections. Its accepts then fail with EMFILE: it must stay up, keep relaying a session opened
 * before, not spin on the listening socket (each failed accept pauses accepting for 100 ms: about ten attempts a
 * second, counted in its log lines, and little CPU), log once per 10 s rather than once per failure, and serve new
 * sessions again once the flood goes.
 */
class DescriptorExhaustionTest {

  private static final int NOFILE = 512;
  private static final int FLOOD = 2 * NOFILE;
  private static final long WINDOW_MS = 12_000;
  /** A spinning accept loop burns a core; ten attempts a second cost a few per cent of one. */
  private static final double MAX_CPU_SHARE = 0.25;
  private static final Pattern FAILURES = Pattern.compile("\\((\\d+) failures? in ([\\d.]+)s\\)");
  private static final byte[] PING = "ping".getBytes(StandardCharsets.US_ASCII);

  @TempDir
  Path dir;

  @Test
  void outOfDescriptorsTheNodeKeepsServingAndComesBack() throws Exception {
    Path config = Files.writeString(dir.resolve("node.yaml"), String.join("\n",
        "listen: { host: 127.0.0.1, port: 0 }",
        "auth: { methods: [none] }",
        "rules:",
        "  client: [ { action: allow, from: [\"127.0.0.0/8\"] } ]",
        "  request: [ { action: allow, to: [\"127.0.0.0/8\"] } ]",
        "timeouts: { handshake: 60s }",
        "limits: { pending-handshakes: 100000, sessions-total: 0, pending-handshakes-per-source: 0,"
            + " sessions-per-source: 0 }",
        "admin: { port: 0 }",
        "drain: { grace: 0s, timeout: 1s }",
        ""));
    List<String> cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + NOFILE + " && exec \"$@\"", "bash"));
    cmd.addAll(NodeProcess.vxsocks("run", "--config", config.toString()));
    List<SocketChannel> flood = new ArrayList<>();
    try (NodeProcess node = NodeProcess.start(cmd, Map.of(), dir.resolve("node.log"));
         TcpTarget echo = TcpTarget.echo("127.0.0.1")) {
      Matcher listening = node.await(LISTENING);
      assertThat(listening).as("the node exited:\n" + node.log()).isNotNull();
      int port = Integer.parseInt(listening.group(1));
      long pid = node.process.pid();
      System.out.println("node " + pid + ": descriptor limit " + NOFILE + ", " + descriptors(pid) + " open at start");

      RawClient before = session(port, echo.port());
      try {
        // The flood, from the test JVM: connections that send nothing, past the node's descriptors.
        for (int i = 0; i < FLOOD; i++) {
          SocketChannel ch = SocketChannel.open();
          flood.add(ch);
          ch.configureBlocking(false);
          ch.connect(new InetSocketAddress("127.0.0.1", port));
        }
        node.await(Pattern.compile("accept failed on 127\\.0\\.0\\.1:" + port + ": .*Too many open files"));
        long cpu0 = cpuTicks(pid);
        long t0 = System.nanoTime();
        for (long i = 0; i < WINDOW_MS / 500; i++) {
          Thread.sleep(500);
          before.send(PING);
          assertThat(before.read(PING.length)).as("a session opened before relays during the flood").isEqualTo(PING);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpu = (cpuTicks(pid) - cpu0) / (double) clockTicksPerSecond();
        String log = node.log();
        assertThat(node.process.isAlive()).as("the node is up").isTrue();
        List<String> failureLines = log.lines().filter(l -> l.contains("accept failed on")).toList();
        double attemptsPerSecond = 0;
        for (String line : failureLines) {
          Matcher m = FAILURES.matcher(line);
          if (m.find() && Double.parseDouble(m.group(2)) > 1) {
            attemptsPerSecond = Math.max(attemptsPerSecond, Integer.parseInt(m.group(1)) / Double.parseDouble(m.group(2)));
          }
        }
        System.out.printf(Locale.ROOT, "node %d during the flood: %d descriptors open, %.2f s of CPU in %.1f s (%.1f %%"
                + " of a core), %.1f failed accepts a second; load average %s; its lines:%n  %s%n", pid,
            descriptors(pid), cpu, seconds, 100 * cpu / seconds, attemptsPerSecond, loadAverage(),
            String.join("\n  ", failureLines));
        assertThat(cpu / seconds).as("CPU share of one core while out of descriptors").isLessThan(MAX_CPU_SHARE);
        assertThat(failureLines).as("one line per 10 s, not one per failed accept")
            .hasSizeBetween(1, (int) (seconds / 10) + 2);
        assertThat(attemptsPerSecond).as("accept retried about every 100 ms, not in a loop").isBetween(1.0, 20.0);
        assertThat(log).as("Netty's own per-failure warning").doesNotContain("exceptionCaught() event was fired");
      } finally {
        for (SocketChannel ch : flood) {
          ch.close();
        }
      }

      // The flood gone, descriptors come back: new sessions work again, the old one still does.
      long t1 = System.nanoTime();
      RawClient after = null;
      for (int attempt = 0; after == null && attempt < 100; attempt++) {
        try {
          after = session(port, echo.port());
        } catch (IOException | AssertionError notYet) {
          Thread.sleep(200);
        }
      }
      assertThat(after).as("a new session after the flood").isNotNull();
      System.out.printf(Locale.ROOT, "a new session succeeded %d ms after the flood closed%n",
          (System.nanoTime() - t1) / 1_000_000);
      after.close();
      before.send(PING);
      assertThat(before.read(PING.length)).isEqualTo(PING);
      before.close();
      assertThat(node.await(Pattern.compile("accepting again on 127\\.0\\.0\\.1:" + port + " after \\d+ failed"),
          java.time.Duration.ofSeconds(20))).isNotNull();
    }
  }

  /** A CONNECT session to the echo target from 127.0.0.1, checked with one round trip. */
  private static RawClient session(int proxyPort, int echoPort) throws IOException {
    RawClient c = new RawClient(proxyPort);
    try {
      assertThat(c.greet(0)).isZero();
      assertThat(c.request(RawClient.CONNECT, echoPort).code()).isZero();
      c.send(PING);
      assertThat(c.read(PING.length)).isEqualTo(PING);
      return c;
    } catch (IOException | AssertionError e) {
      c.close();
      throw e;
    }
  }

  /** utime + stime of {@code pid}, in clock ticks ({@code /proc/PID/stat} fields 14 and 15). */
  private static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // f[0] is field 3 (state): utime is field 14, stime field 15.
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  private static long clockTicksPerSecond() throws Exception {
    Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
    p.waitFor();
    return out.matches("\\d+") ? Long.parseLong(out) : 100;
  }

  private static int descriptors(long pid) {
    String[] fds = new File("/proc/" + pid + "/fd").list();
    return fds == null ? -1 : fds.length;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "?";
    }
  }
}
