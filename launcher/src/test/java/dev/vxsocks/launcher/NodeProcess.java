package dev.vxsocks.launcher;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.fail;

/**
 * A vxsocks node as a process of its own: started with a command ({@link #vxsocks} as an operator runs it,
 * {@link #clusterMember} for a cluster member whose ports are given on the command line), standard input empty,
 * standard output and error appended to one log file that is read as it grows, stopped by its PID (SIGTERM, then
 * SIGKILL when it does not exit in time). Every node still running when the test JVM exits is killed.
 */
final class NodeProcess implements AutoCloseable {

  /** What a node logs once it accepts SOCKS connections; group 1 is the port. */
  static final Pattern LISTENING = Pattern.compile("vxsocks listening on 127\\.0\\.0\\.1:(\\d+) ");
  /** JVM options of a node process started with the test class path (what the jar's manifest gives, small heap). */
  static final List<String> JVM_FLAGS = List.of("-Xss512k", "-Xmx256m", "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens",
      "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens",
      "java.management/sun.management=ALL-UNNAMED", "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED");
  private static final Duration DEFAULT_WAIT = Duration.ofSeconds(20);
  private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly), "kill-node-processes"));
  }

  final Process process;
  final List<String> command;
  final Path log;
  /** Where this start's output begins in {@link #log}: a restarted node appends to the same file. */
  private final long logOffset;

  private NodeProcess(Process process, List<String> command, Path log, long logOffset) {
    this.process = process;
    this.command = command;
    this.log = log;
    this.logOffset = logOffset;
  }

  // --- commands ---------------------------------------------------------------------------------------------------

  /**
   * {@code java ... <Main> args}: the shaded jar if it is newer than every class the tests run with (this module's
   * and the other modules' {@code target/classes}), else the test class path, so a stale jar is never tested.
   */
  static List<String> vxsocks(String... args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path jar = Path.of("target", "vxsocks.jar");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    if (Files.isRegularFile(jar) && Files.getLastModifiedTime(jar).toMillis() >= newestOwnClass()) {
      cmd.addAll(List.of("-jar", jar.toString()));
    } else {
      // What the jar's manifest (Add-Opens) gives a node run with -jar.
      cmd.addAll(List.of("--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/java.nio=ALL-UNNAMED",
          "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
          "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    }
    cmd.addAll(List.of(args));
    System.out.println("vxsocks as a process: " + String.join(" ", cmd));
    return cmd;
  }

  /** The newest modification time among the project's compiled classes on the test class path. */
  private static long newestOwnClass() throws IOException {
    long newest = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(entry);
      if (Files.isDirectory(p) && p.endsWith(Path.of("target", "classes"))) {
        try (Stream<Path> files = Files.walk(p)) {
          for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
            newest = Math.max(newest, Files.getLastModifiedTime(f).toMillis());
          }
        }
      } else if (Files.isRegularFile(p) && p.getFileName().toString().matches("(cluster-config|auth-verticle|proxy-verticle)-.*\\.jar")) {
        newest = Math.max(newest, Files.getLastModifiedTime(p).toMillis());
      }
    }
    return newest;
  }

  /**
   * {@code vxsocks run --config config} with the test class path and {@link #JVM_FLAGS}, its SOCKS, cluster and admin
   * ports set as system properties (so that members of one cluster share one file).
   */
  static List<String> clusterMember(Path config, int listenPort, int clusterPort, int adminPort) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(JVM_FLAGS);
    cmd.add("-Dvxsocks.listen.port=" + listenPort);
    cmd.add("-Dvxsocks.cluster.port=" + clusterPort);
    cmd.add("-Dvxsocks.admin.port=" + adminPort);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--config",
        config.toString()));
    return cmd;
  }

  /** {@code cluster.members} for members on 127.0.0.1 at {@code clusterPorts}: {@code ["127.0.0.1:p1", ...]}. */
  static String members(int... clusterPorts) {
    return Arrays.stream(clusterPorts).mapToObj(p -> "\"127.0.0.1:" + p + "\"").collect(Collectors.joining(", ", "[", "]"));
  }

  // --- running ----------------------------------------------------------------------------------------------------

  /** Starts {@code command} without the VXSOCKS_ variables of this environment, plus {@code env}, appending to {@code log}. */
  static NodeProcess start(List<String> command, Map<String, String> env, Path log) throws IOException {
    long offset = Files.exists(log) ? Files.size(log) : 0;
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().keySet().removeIf(k -> k.startsWith("VXSOCKS_"));
    pb.environment().putAll(env);
    return new NodeProcess(killedOnExit(pb.start()), command, log, offset);
  }

  /** {@code p}, to be killed (SIGKILL) if it still runs when the test JVM exits: any process a test starts. */
  static Process killedOnExit(Process p) {
    RUNNING.add(p);
    p.onExit().thenRun(() -> RUNNING.remove(p));
    return p;
  }

  /** What this start of the node has written so far (standard output and error). */
  String log() {
    try {
      byte[] all = Files.exists(log) ? Files.readAllBytes(log) : new byte[0];
      return all.length <= logOffset ? "" : new String(all, (int) logOffset, all.length - (int) logOffset, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * The CPU time (user + system, every thread) this node process has used so far, in nanoseconds: fields 14 and 15 of
   * {@code /proc/PID/stat} (Linux), in clock ticks of 10 ms (USER_HZ 100).
   */
  long cpuNanos() throws IOException {
    String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
    // The command name (field 2) is in parentheses and may hold spaces: count the fields after it.
    String[] after = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    return (Long.parseLong(after[11]) + Long.parseLong(after[12])) * 10_000_000L;
  }

  /** {@link #await(Pattern, Duration)} within 20 s. */
  Matcher await(Pattern p) throws InterruptedException {
    return await(p, DEFAULT_WAIT);
  }

  /** Waits for a log line matching {@code p}, or for the process to end; null if it ended. Fails after {@code within}. */
  Matcher await(Pattern p, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() - deadline < 0) {
      Matcher m = p.matcher(log());
      if (m.find()) {
        return m;
      }
      if (!process.isAlive()) {
        return null;
      }
      Thread.sleep(100);
    }
    return fail("no line matching " + p + " within " + within + "\ncommand: " + command + "\nlog:\n" + log());
  }

  /** {@link #exit(Duration)} within 20 s. */
  int exit() throws InterruptedException {
    return exit(DEFAULT_WAIT);
  }

  /** Waits for the process to exit on its own; its exit code. Fails when it still runs after {@code within}. */
  int exit(Duration within) throws InterruptedException {
    if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      fail("still running after " + within + "\ncommand: " + command + "\nlog:\n" + log());
    }
    return process.exitValue();
  }

  /** SIGTERM to every node at once, then waits for each at most {@code within}; SIGKILL for those still running. */
  static void stopAll(Collection<NodeProcess> nodes, Duration within) throws InterruptedException {
    for (NodeProcess n : nodes) {
      n.process.destroy();
    }
    for (NodeProcess n : nodes) {
      if (!n.process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
        n.process.destroyForcibly();
      }
    }
  }

  /** Kills the process (SIGKILL) if it still runs, and waits at most 10 s for it to go. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Polls {@code condition} every 100 ms; an AssertionError when it is still false after {@code within}. */
  static void poll(Duration within, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("condition not met within " + within);
      }
      Thread.sleep(100);
    }
  }
}
