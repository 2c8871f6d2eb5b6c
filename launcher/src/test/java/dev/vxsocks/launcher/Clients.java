package dev.vxsocks.launcher;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.fail;

/**
 * Runs SOCKS clients the team did not write (curl, ncat, PySocks) as processes: stdin from a file, stdout and stderr
 * to files (no pipe can fill up and block), a 20 s limit after which the process is killed and the test fails with
 * whatever it printed. A missing client fails the test with the Debian package to install: never a silent skip.
 */
final class Clients {

  static final long TIMEOUT_SECONDS = 20;
  static final Path PYTHON = Path.of("/usr/bin/python3");
  private static volatile String pythonProblem;
  private static volatile boolean pythonChecked;
  private static volatile int[] curlVersion;

  private Clients() {
  }

  /** What a client did. */
  record Result(List<String> command, int exit, byte[] stdout, String stderr) {

    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    /** For assertion messages: the command, its exit code, and what it printed (stdout cut at 2000 chars). */
    String describe() {
      String o = out();
      return "command: " + String.join(" ", command) + "\nexit: " + exit
          + "\nstdout (" + stdout.length + " bytes): " + (o.length() > 2000 ? o.substring(0, 2000) + "..." : o)
          + "\nstderr: " + stderr;
    }
  }

  /**
   * curl 7.73 or later: the failure tests expect its exit code 97 (CURLE_PROXY) with the SOCKS reply code in
   * brackets; older versions exit with 7 for every SOCKS failure.
   */
  static String curl() {
    String curl = onPath("curl", "curl");
    if (curlVersion == null) {
      Result r = run(List.of(curl, "--version"), new byte[0]);
      Matcher m = Pattern.compile("^curl (\\d+)\\.(\\d+)").matcher(r.out());
      if (r.exit() != 0 || !m.find()) {
        fail("cannot tell the version of " + curl + "\n" + r.describe());
      }
      curlVersion = new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }
    if (curlVersion[0] < 7 || (curlVersion[0] == 7 && curlVersion[1] < 73)) {
      fail("curl " + curlVersion[0] + "." + curlVersion[1] + " is too old: these tests need 7.73 or later (exit code 97 "
          + "for SOCKS failures); install a newer Debian package curl");
    }
    return curl;
  }

  static String ncat() {
    return onPath("ncat", "ncat");
  }

  /**
   * Debian's own Python with PySocks. Not the {@code python3} on PATH: that may be a pyenv build that cannot import
   * Debian's {@code socks} module.
   */
  static String pysocksPython() {
    if (!pythonChecked) {
      String problem = null;
      if (!Files.isExecutable(PYTHON)) {
        problem = PYTHON + " is missing: install the Debian packages python3 and python3-socks (apt-get install -y python3-socks)";
      } else {
        Result r = run(List.of(PYTHON.toString(), "-c", "import socks; print(socks.__version__)"), new byte[0]);
        if (r.exit() != 0) {
          problem = PYTHON + " cannot import the PySocks module 'socks': install the Debian package python3-socks "
              + "(apt-get install -y python3-socks)\n" + r.describe();
        }
      }
      pythonProblem = problem;
      pythonChecked = true;
    }
    if (pythonProblem != null) {
      fail(pythonProblem);
    }
    return PYTHON.toString();
  }

  /** A file in src/test/resources, as a path. */
  static String resource(String name) {
    URL url = Clients.class.getResource("/" + name);
    if (url == null) {
      fail("test resource " + name + " is missing from the test class path");
    }
    try {
      return Path.of(url.toURI()).toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static String onPath(String binary, String debianPackage) {
    String path = System.getenv().getOrDefault("PATH", "");
    List<String> dirs = new ArrayList<>(List.of(path.split(File.pathSeparator)));
    dirs.add("/usr/bin");
    for (String dir : dirs) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, binary))) {
        return Path.of(dir, binary).toString();
      }
    }
    return fail(binary + " is not installed (looked in PATH=" + path + " and /usr/bin): install the Debian package "
        + debianPackage + " (apt-get install -y " + debianPackage + ")");
  }

  /** Runs {@code command} with {@code stdin} as its whole input (then EOF), within {@link #TIMEOUT_SECONDS}. */
  static Result run(List<String> command, byte[] stdin) {
    return run(command, stdin, TIMEOUT_SECONDS);
  }

  /** As {@link #run(List, byte[])}, with another time limit. */
  static Result run(List<String> command, byte[] stdin, long timeoutSeconds) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("vxsocks-client");
      Path in = Files.write(dir.resolve("stdin"), stdin);
      Path out = dir.resolve("stdout");
      Path err = dir.resolve("stderr");
      ProcessBuilder pb = new ProcessBuilder(command)
          .redirectInput(in.toFile())
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      cleanEnvironment(pb.environment());
      Process p = pb.start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        fail("did not finish within " + timeoutSeconds + " s, killed:\n"
            + new Result(command, -1, Files.readAllBytes(out), Files.readString(err, StandardCharsets.UTF_8)).describe());
      }
      return new Result(command, p.exitValue(), Files.readAllBytes(out), Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return fail("cannot run " + String.join(" ", command) + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted while running " + command);
    } finally {
      deleteQuietly(dir);
    }
  }

  /**
   * No proxy settings from the environment (curl honours ALL_PROXY and NO_PROXY, which could send the request
   * around our proxy), no Python path from a virtualenv, and messages in plain English.
   */
  private static void cleanEnvironment(Map<String, String> env) {
    env.keySet().removeIf(k -> k.toLowerCase(Locale.ROOT).contains("proxy") || k.startsWith("PYTHON"));
    env.put("LC_ALL", "C");
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory left behind
    }
  }
}
