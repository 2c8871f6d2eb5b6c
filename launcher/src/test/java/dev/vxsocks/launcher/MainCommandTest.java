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

  @Test
  void unknownCommandAndMissingOptionValueAreUsageErrors() {
    Run unknown = main("frobnicate");
    assertThat(unknown.exit()).as(unknown.describe()).isEqualTo(2);
    assertThat(unknown.err()).as(unknown.describe()).startsWith("vxsocks: unknown command 'frobnicate'\nusage:");

    Run noValue = main("check-config", "--config");
    assertThat(noValue.exit()).as(noValue.describe()).isEqualTo(2);
    assertThat(noValue.err()).as(noValue.describe()).startsWith("vxsocks: --config needs a value\n");

    Run extra = main("check-config", "surplus");
    assertThat(extra.exit()).as(extra.describe()).isEqualTo(2);
    assertThat(extra.err()).as(extra.describe()).startsWith("vxsocks: unexpected argument 'surplus'\n");
  }

  @Test
  void helpPrintsUsage() {
    Run r = main("help");

    assertThat(r.exit()).isZero();
    assertThat(r.out()).startsWith("usage: java -jar vxsocks.jar");
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
    assertThat(cheap.err()).as(cheap.describe()).startsWith("vxsocks: --iterations must be at least 1000\n");

    Run notANumber = hashPassword("pw\n", "--iterations", "many");
    assertThat(notANumber.exit()).as(notANumber.describe()).isEqualTo(2);
    assertThat(notANumber.err()).as(notANumber.describe()).startsWith("vxsocks: --iterations must be a whole number\n");
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
}
