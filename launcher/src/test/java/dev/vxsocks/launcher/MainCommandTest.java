package dev.vxsocks.launcher;

import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.testing.TestProxy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line, in-process through {@code Main.run(args, out, err)}, and as a real process for what only a
 * process shows (exit status via {@code System.exit}, stdin that is not a terminal). A configuration error must be
 * exit code 2 and exactly one line naming the key, never a stack trace.
 */
class MainCommandTest {

  private static final InputStream REAL_STDIN = System.in;
  @TempDir
  Path dir;

  @AfterEach
  void restoreStdin() {
    System.setIn(REAL_STDIN);
  }

  /** What one {@code Main.run} printed. */
  record Run(int exit, String out, String err) {
    String describe() {
      return "exit " + exit + "\nstdout: " + out + "\nstderr: " + err;
    }
  }

  static Run main(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
         PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      exit = Main.run(args, o, e);
    }
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Path yaml(String text) throws Exception {
    return Files.writeString(Files.createTempFile(dir, "vxsocks", ".yaml"), text);
  }

  private static String goodConfig() {
    return String.join("\n",
        "listen:",
        "  host: 127.0.0.1",
        "  port: 1080",
        "auth:",
        "  methods: [username-password]",
        "users:",
        "  - { name: alice, password: \"" + TestProxy.PASSWORD_HASH + "\" }",
        "rules:",
        "  client:",
        "    - { action: allow, from: [\"127.0.0.0/8\", \"::1/128\"] }",
        "  request:",
        "    - { action: deny, to: [\"169.254.0.0/16\"] }",
        "    - { action: allow, to: [\"127.0.0.0/8\", \"localhost\"], ports: [\"80\", \"8000-8999\"] }",
        "timeouts:",
        "  handshake: 5s",
        "  idle: 10m",
        "limits:",
        "  sessions-per-user: 10",
        "");
  }

  @Test
  void checkConfigAcceptsAGoodFile() throws Exception {
    Path file = yaml(goodConfig());

    Run r = main("check-config", "--config", file.toString());

    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out()).as(r.describe()).isEqualTo("ok: " + file + " (listen 127.0.0.1:1080, 1 users, 2 request rules)\n");
    assertThat(r.err()).as(r.describe()).isEmpty();
  }

  @Test
  void checkConfigAcceptsTheShippedDefault() {
    Run r = main("check-config");

    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out()).as(r.describe()).startsWith("ok: built-in vxsocks-default.yaml (listen 127.0.0.1:1080");
  }

  static Stream<Arguments> badFiles() {
    return Stream.of(
        Arguments.of("limits:\n  sessions-per-user: -1\n", "limits.sessions-per-user"),
        Arguments.of("limits:\n  sessions-per-usr: 5\n", "limits.sessions-per-usr"),
        Arguments.of("listn:\n  port: 1080\n", "listn"),
        Arguments.of("listen:\n  port: 70000\n", "listen.port"),
        Arguments.of("timeouts:\n  connect: 10\n", "timeouts.connect"),
        Arguments.of("auth:\n  methods: [kerberos]\n", "auth.methods"),
        Arguments.of("listen:\n  host: 0.0.0.0\nauth:\n  methods: [none]\n", "auth.methods"),
        Arguments.of("users:\n  - { name: bob, password: hunter2 }\n", "users[0].password"),
        Arguments.of("rules:\n  request:\n    - { action: permit }\n", "rules.request[0].action"),
        Arguments.of("rules:\n  client:\n    - { action: allow, from: [\"10.0.0.0/33\"] }\n", "rules.client[0].from"));
  }

  @ParameterizedTest(name = "check-config names {1}")
  @MethodSource("badFiles")
  void aBadValueIsOneLineNamingTheKey(String content, String key) throws Exception {
    Run r = main("check-config", "--config", yaml(content).toString());

    assertThat(r.exit()).as(r.describe()).isEqualTo(2);
    assertThat(r.out()).as(r.describe()).isEmpty();
    assertThat(r.err().lines()).as(r.describe()).hasSize(1);
    assertThat(r.err()).as(r.describe()).startsWith("vxsocks: config error: " + key + ": ");
    assertThat(r.err()).as("no stack trace, no exception class names\n" + r.describe())
        .doesNotContain("Exception", "\tat ", "hunter2");
  }

  @Test
  void checkConfigReadsTheMemoSecretFileACusterNodeWouldRead() throws Exception {
    Path secret = dir.resolve("memo.secret");
    String cluster = "cluster: { enabled: true, memo-secret-file: \"" + secret + "\" }\n";
    Run missing = main("check-config", "--config", yaml(cluster).toString());
    assertThat(missing.exit()).as(missing.describe()).isEqualTo(2);
    assertThat(missing.err()).as(missing.describe())
        .isEqualTo("vxsocks: config error: cluster.memo-secret-file: no such file: " + secret + "\n");

    Files.writeString(secret, "short\n");
    Run tooShort = main("check-config", "--config", yaml(cluster).toString());
    assertThat(tooShort.exit()).as(tooShort.describe()).isEqualTo(2);
    assertThat(tooShort.err().lines()).as(tooShort.describe()).hasSize(1);
    assertThat(tooShort.err()).as(tooShort.describe())
        .startsWith("vxsocks: config error: cluster.memo-secret-file: " + secret + " holds 5 bytes").doesNotContain("short");

    Files.writeString(secret, "0123456789abcdef0123456789abcdef0123456789abcdef\n");
    Run good = main("check-config", "--config", yaml(cluster).toString());
    assertThat(good.exit()).as(good.describe()).isZero();
    // Not a cluster: the key is ignored like every other cluster key.
    Run single = main("check-config", "--config", yaml("cluster: { memo-secret-file: /nonexistent }\n").toString());
    assertThat(single.exit()).as(single.describe()).isZero();
  }

  @Test
  void brokenYamlIsOneLine() throws Exception {
    Run r = main("check-config", "--config", yaml("listen: [unclosed\n  port: 1080\n").toString());

    assertThat(r.exit()).as(r.describe()).isEqualTo(2);
    assertThat(r.err().lines()).as(r.describe()).hasSize(1);
    assertThat(r.err()).as(r.describe()).startsWith("vxsocks: config error: config: cannot read ");
    assertThat(r.err()).as(r.describe()).doesNotContain("\tat ");
  }

  @Test
  void aMissingFileIsOneLineNamingIt() {
    Path missing = dir.resolve("no-such.yaml");

    Run r = main("check-config", "--config", missing.toString());

    assertThat(r.exit()).as(r.describe()).isEqualTo(2);
    assertThat(r.err().lines()).as(r.describe()).hasSize(1);
    assertThat(r.err()).as(r.describe()).contains(missing.toString()).contains("does not exist");
  }

  @Test
  void aDirectoryIsNotAFile() {
    Run r = main("check-config", "--config", dir.toString());

    assertThat(r.exit()).as(r.describe()).isEqualTo(2);
    assertThat(r.err().lines()).as(r.describe()).hasSize(1);
  }

  /**
   * A bad command line is one line on standard error, exit code 2: what is wrong, then where the help is (never the
   * whole usage, which would bury the line that matters).
   */
  @Test
  void unknownCommandAndMissingOptionValueAreUsageErrors() {
    Run unknown = main("frobnicate");
    assertThat(unknown.exit()).as(unknown.describe()).isEqualTo(2);
    assertThat(unknown.err()).as(unknown.describe()).startsWith("vxsocks: unknown command 'frobnicate'")
        .endsWith(" (try 'java -jar vxsocks.jar --help')\n");
    assertThat(unknown.err().lines()).as(unknown.describe()).hasSize(1);
    assertThat(unknown.out()).as(unknown.describe()).isEmpty();

    Run noValue = main("check-config", "--config");
    assertThat(noValue.exit()).as(noValue.describe()).isEqualTo(2);
    assertThat(noValue.err()).as(noValue.describe())
        .isEqualTo("vxsocks: --config needs a value (try 'java -jar vxsocks.jar check-config --help')\n");

    Run extra = main("check-config", "surplus");
    assertThat(extra.exit()).as(extra.describe()).isEqualTo(2);
    assertThat(extra.err()).as(extra.describe())
        .isEqualTo("vxsocks: unexpected argument 'surplus' (try 'java -jar vxsocks.jar check-config --help')\n");
  }

  static Stream<Arguments> unknownOptions() {
    return Stream.of(
        Arguments.of(new String[] {"--frobnicate"}, "run"), // a leading option: the default command's
        Arguments.of(new String[] {"run", "--frobnicate"}, "run"),
        Arguments.of(new String[] {"check-config", "--frobnicate"}, "check-config"),
        Arguments.of(new String[] {"hash-password", "--frobnicate"}, "hash-password"),
        Arguments.of(new String[] {"user", "list", "--frobnicate"}, "user list"),
        Arguments.of(new String[] {"user", "disable", "bob", "--hash", "x"}, "user disable"),
        Arguments.of(new String[] {"config", "apply", "--frobnicate", "f.yaml"}, "config apply"),
        Arguments.of(new String[] {"status", "--frobnicate"}, "status"),
        Arguments.of(new String[] {"probe", "--frobnicate"}, "probe"));
  }

  @ParameterizedTest(name = "{1}: an unknown option is one line, exit 2")
  @MethodSource("unknownOptions")
  void anUnknownOptionIsOneLine(String[] args, String command) {
    Run r = main(args);

    assertThat(r.exit()).as(r.describe()).isEqualTo(2);
    assertThat(r.out()).as(r.describe()).isEmpty();
    assertThat(r.err().lines()).as(r.describe()).hasSize(1);
    assertThat(r.err()).as(r.describe()).startsWith("vxsocks: unknown option '--")
        .endsWith("(try 'java -jar vxsocks.jar " + command + " --help')\n")
        .doesNotContain("\u001b["); // no ANSI colour
  }

  @Test
  void aMissingSubcommandOrParameterIsOneLine() {
    Run user = main("user");
    assertThat(user.exit()).as(user.describe()).isEqualTo(2);
    assertThat(user.err()).as(user.describe()).isEqualTo("vxsocks: user needs one of add, disable, enable, list,"
        + " passwd, remove (try 'java -jar vxsocks.jar user --help')\n");

    Run noName = main("user", "add", "--hash", "x");
    assertThat(noName.exit()).as(noName.describe()).isEqualTo(2);
    assertThat(noName.err()).as(noName.describe())
        .isEqualTo("vxsocks: user add needs NAME (try 'java -jar vxsocks.jar user add --help')\n");

    Run noFile = main("config", "apply");
    assertThat(noFile.exit()).as(noFile.describe()).isEqualTo(2);
    assertThat(noFile.err()).as(noFile.describe())
        .isEqualTo("vxsocks: config apply needs FILE (try 'java -jar vxsocks.jar config apply --help')\n");

    Run typo = main("user", "dissable", "bob");
    assertThat(typo.exit()).as(typo.describe()).isEqualTo(2);
    assertThat(typo.err()).as(typo.describe()).startsWith("vxsocks: unknown command 'user dissable'; did you mean"
        + " 'disable'?");
  }

  @Test
  void helpPrintsUsage() {
    Run r = main("help");

    assertThat(r.exit()).isZero();
    assertThat(r.out()).startsWith("usage: java -jar vxsocks.jar");
  }

  /** Every command, as it is typed (the tree below the program name). */
  static Stream<String> commands() {
    return Stream.of("", "run", "check-config", "hash-password", "user", "user add", "user passwd", "user disable",
        "user enable", "user remove", "user list", "config", "config apply", "config status", "status", "probe", "help");
  }

  @ParameterizedTest(name = "''{0} --help''")
  @MethodSource("commands")
  void helpOnEveryCommand(String command) {
    for (String flag : List.of("--help", "-h")) {
      List<String> args = new ArrayList<>(command.isEmpty() ? List.of() : List.of(command.split(" ")));
      args.add(flag);
      Run r = main(args.toArray(String[]::new));

      assertThat(r.exit()).as(r.describe()).isZero();
      assertThat(r.err()).as(r.describe()).isEmpty();
      // picocli's own help command puts a header line first.
      assertThat(command.equals("help") ? r.out().substring(r.out().indexOf('\n') + 1) : r.out()).as(r.describe())
          .startsWith("usage: java -jar vxsocks.jar" + (command.isEmpty() ? " " : " " + command + " "));
      assertThat(r.out()).as(r.describe()).contains("--help").doesNotContain("\u001b[");
      if (!command.equals("help")) {
        assertThat(r.out()).as(r.describe()).contains("Show this help message and exit.");
      }
    }
  }

  @Test
  void helpNamesEveryCommandAndItsOptions() {
    String top = main("--help").out();
    assertThat(top).contains("run", "check-config", "hash-password", "user", "config", "status", "probe");
    assertThat(main("run", "--help").out()).contains("--config=FILE", "--log-level=LEVEL", "--watch");
    assertThat(main("user", "add", "--help").out()).contains("NAME", "--hash=HASH", "--config=FILE");
    assertThat(main("config", "apply", "--help").out()).contains("FILE", "--users");
    assertThat(main("status", "--help").out()).contains("--json", "--config=FILE");
    assertThat(main("probe", "--help").out()).contains("--proxy=HOST:PORT", "--target=HOST:PORT", "--user=NAME",
        "--udp", "--send=TEXT", "--timeout=MS");
    assertThat(main("help", "status").out()).startsWith("usage: java -jar vxsocks.jar status ");
  }

  @ParameterizedTest(name = "''{0} --version''")
  @MethodSource("commands")
  void versionOnEveryCommand(String command) {
    if (command.equals("help")) {
      return; // picocli's help command takes only --help
    }
    for (String flag : List.of("--version", "-V")) {
      List<String> args = new ArrayList<>(command.isEmpty() ? List.of() : List.of(command.split(" ")));
      args.add(flag);
      Run r = main(args.toArray(String[]::new));

      assertThat(r.exit()).as(r.describe()).isZero();
      assertThat(r.err()).as(r.describe()).isEmpty();
      // The test class path holds the build's resource (mvn wrote it): a version and a commit, or "unknown" for a
      // build outside git.
      assertThat(r.out()).as(r.describe()).matches("vxsocks \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit ([0-9a-f]{12}|unknown)\\)\n");
    }
  }

  @Test
  void aUserNameStartingWithAtIsANameNotAFileOfArguments() throws Exception {
    Files.writeString(dir.resolve("bob"), "--frobnicate\n");
    Run r = main("user", "disable", "@" + dir.resolve("bob"), "--config", yaml("listen: { port: 1080 }\n").toString());
    assertThat(r.exit()).as(r.describe()).isEqualTo(2);
    assertThat(r.err()).as(r.describe()).startsWith("vxsocks: the configuration has no enabled cluster section");
  }

  // hash-password, in-process: standard input replaced (there is no console under the test runner).

  private Run hashPassword(String stdin, String... args) {
    assertThat(System.console()).as("a console would make hash-password prompt on the terminal").isNull();
    System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    List<String> all = new ArrayList<>(List.of("hash-password"));
    all.addAll(List.of(args));
    return main(all.toArray(String[]::new));
  }

  @Test
  void hashPasswordPrintsAHashThatVerifies() {
    String password = "pässwörd with spaces";

    Run r = hashPassword(password + "\n", "--iterations", "1000");

    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.err()).as(r.describe()).isEmpty();
    assertThat(r.out().lines()).as(r.describe()).hasSize(1);
    assertThat(r.out()).doesNotContain(password);
    PasswordHash hash = PasswordHash.parse("stdout", r.out().trim());
    assertThat(hash.iterations()).isEqualTo(1000);
    assertThat(hash.verify(password.toCharArray())).isTrue();
    assertThat(hash.verify("pässwörd with space".toCharArray())).isFalse();
  }

  @Test
  void hashPasswordUsesTheDefaultCost() {
    Run r = hashPassword("correct horse battery staple\n");

    assertThat(r.exit()).as(r.describe()).isZero();
    PasswordHash hash = PasswordHash.parse("stdout", r.out().trim());
    assertThat(hash.iterations()).isEqualTo(PasswordHash.DEFAULT_ITERATIONS);
    assertThat(hash.verify("correct horse battery staple".toCharArray())).isTrue();
  }

  @Test
  void hashPasswordRefusesBadInput() {
    Run empty = hashPassword("", "--iterations", "1000");
    assertThat(empty.exit()).as(empty.describe()).isEqualTo(1);
    assertThat(empty.err()).as(empty.describe()).isEqualTo("vxsocks: the password must not be empty\n");
    assertThat(empty.out()).isEmpty();

    Run tooLong = hashPassword("x".repeat(256) + "\n", "--iterations", "1000");
    assertThat(tooLong.exit()).as(tooLong.describe()).isEqualTo(1);
    assertThat(tooLong.err()).as(tooLong.describe()).contains("255 bytes");

    Run cheap = hashPassword("pw\n", "--iterations", "999");
    assertThat(cheap.exit()).as(cheap.describe()).isEqualTo(2);
    assertThat(cheap.err()).as(cheap.describe()).isEqualTo("vxsocks: --iterations must be at least 1000"
        + " (try 'java -jar vxsocks.jar hash-password --help')\n");

    Run notANumber = hashPassword("pw\n", "--iterations", "many");
    assertThat(notANumber.exit()).as(notANumber.describe()).isEqualTo(2);
    assertThat(notANumber.err()).as(notANumber.describe()).isEqualTo("vxsocks: --iterations must be a whole number"
        + " (try 'java -jar vxsocks.jar hash-password --help')\n");
  }

  // As a process (NodeProcess.vxsocks): the shaded jar when it is there and up to date (after `mvn package`), else the
  // test class path.

  @Test
  void hashPasswordAsAProcess() throws Exception {
    String password = "s3cret from a pipe";

    Clients.Result r = Clients.run(NodeProcess.vxsocks("hash-password", "--iterations", "1000"),
        (password + "\n").getBytes(StandardCharsets.UTF_8));

    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out().lines()).as(r.describe()).hasSize(1);
    PasswordHash hash = PasswordHash.parse("stdout", r.out().trim());
    assertThat(hash.verify(password.toCharArray())).as(r.describe()).isTrue();
    assertThat(hash.verify("s3cret from a pip".toCharArray())).isFalse();
  }

  @Test
  void checkConfigAsAProcess() throws Exception {
    Path bad = yaml("limits:\n  sessions-per-user: -1\n");

    Clients.Result r = Clients.run(NodeProcess.vxsocks("check-config", "--config", bad.toString()), new byte[0]);

    assertThat(r.exit()).as(r.describe()).isEqualTo(2);
    assertThat(r.stderr().lines()).as(r.describe()).hasSize(1);
    assertThat(r.stderr()).as(r.describe()).startsWith("vxsocks: config error: limits.sessions-per-user: ");
    assertThat(r.out()).as(r.describe()).isEmpty();
  }

  /** What a process shows: --version from the jar (or class path) as built, and a bad option's exit status. */
  @Test
  void versionAndABadOptionAsAProcess() throws Exception {
    Clients.Result version = Clients.run(NodeProcess.vxsocks("--version"), new byte[0]);
    assertThat(version.exit()).as(version.describe()).isZero();
    assertThat(version.out()).as(version.describe())
        .matches("vxsocks \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit ([0-9a-f]{12}|unknown)\\)\n");

    Clients.Result bad = Clients.run(NodeProcess.vxsocks("status", "--frobnicate"), new byte[0]);
    assertThat(bad.exit()).as(bad.describe()).isEqualTo(2);
    assertThat(bad.out()).as(bad.describe()).isEmpty();
    assertThat(bad.stderr()).as(bad.describe())
        .isEqualTo("vxsocks: unknown option '--frobnicate' (try 'java -jar vxsocks.jar status --help')\n");
  }
}
