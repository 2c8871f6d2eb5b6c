package dev.vxsocks.launcher;

import dev.vxsocks.config.CommandName;
import dev.vxsocks.auth.api.AuthAddresses;
import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.auth.api.AuthorizeRequest;
import dev.vxsocks.config.ConfigLoader;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code run --watch} on a single node: an edit applies within the 5 s; an invalid edit changes nothing. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FileWatchTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static String yaml(String hash, boolean aliceEnabled, boolean denyPort9, String perUser) {
    return String.join("\n",
        "listen: { host: 127.0.0.1, port: 0 }",
        "auth: { methods: [username-password] }",
        "users:",
        "  - { name: alice, password: \"" + hash + "\", enabled: " + aliceEnabled + " }",
        "rules:",
        "  request:",
        denyPort9 ? "    - { action: deny, to: [\"127.0.0.1\"], ports: [\"9\"] }" : "",
        "    - { action: allow, to: [\"127.0.0.1\"] }",
        "limits: { sessions-per-user: " + perUser + " }",
        "");
  }

  @Test
  void editsApplyLiveAndInvalidEditsAreRefused(@TempDir Path dir) throws Exception {
    String hash = PasswordHash.create("pw".toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
    Path file = dir.resolve("node.yaml");
    Files.writeString(file, yaml(hash, true, false, "3"));
    ProxyConfig cfg = ConfigLoader.load(vertx, file).await(10, TimeUnit.SECONDS);
    Node node = Node.start(vertx, cfg, "v1", 1, null).await(30, TimeUnit.SECONDS);
    FileWatch.start(vertx, file, node, Duration.ofMillis(250)).await(10, TimeUnit.SECONDS);
    List<String> revoked = new CopyOnWriteArrayList<>();
    vertx.eventBus().<String>localConsumer(AuthAddresses.USER_REVOKED, m -> revoked.add(m.body()));
    AuthClient auth = new AuthClient(vertx, Duration.ofSeconds(10));
    AuthorizeRequest toPort9 = new AuthorizeRequest("alice", "127.0.0.1", CommandName.CONNECT, null, "127.0.0.1", 9);
    assertThat(auth.authorize(toPort9).await(10, TimeUnit.SECONDS).allowed()).isTrue();

    Files.writeString(file, yaml(hash, true, true, "3"));
    poll(Duration.ofSeconds(5), () -> !auth.authorize(toPort9).await().allowed());
    String version = node.version();
    assertThat(version).isNotEqualTo("v1");

    Files.writeString(file, yaml(hash, false, false, "-1"));
    Thread.sleep(1000); // four scans: nothing may change
    assertThat(auth.authorize(toPort9).await(10, TimeUnit.SECONDS).allowed()).isFalse();
    assertThat(node.version()).isEqualTo(version);
    assertThat(revoked).isEmpty();

    Files.writeString(file, yaml(hash, false, true, "3"));
    poll(Duration.ofSeconds(5), () -> revoked.contains("alice"));
    assertThat(auth.authenticate("alice", "pw", "127.0.0.1").await(10, TimeUnit.SECONDS).allowed()).isFalse();
  }

  @Test
  void anEditJsonCannotHoldIsRefusedWithAConfigErrorAndTheWatchGoesOn(@TempDir Path dir) throws Exception {
    String hash = PasswordHash.create("pw".toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
    Path file = dir.resolve("node.yaml");
    Files.writeString(file, yaml(hash, true, false, "3"));
    ProxyConfig cfg = ConfigLoader.load(vertx, file).await(10, TimeUnit.SECONDS);
    Node node = Node.start(vertx, cfg, "v1", 1, null).await(30, TimeUnit.SECONDS);
    try (dev.vxsocks.testing.LogCapture logs = new dev.vxsocks.testing.LogCapture("", java.util.logging.Level.ALL)) {
      FileWatch.start(vertx, file, node, Duration.ofMillis(250)).await(10, TimeUnit.SECONDS);
      // YAML that vertx-config reads but JSON cannot hold: a null key in a mapping inside a list, then a date in one.
      Files.writeString(file, yaml(hash, true, false, "3") + "extra:\n  - ~: 1\n");
      String refused = logs.await("it holds what JSON cannot", 10_000);
      assertThat(refused).contains("changed but is not valid, still running version v1", "config:");
      Files.writeString(file, yaml(hash, true, false, "3") + "extra:\n  - 2001-12-14\n");
      Thread.sleep(1000); // four scans
      assertThat(node.version()).isEqualTo("v1");
      assertThat(logs.lines()).noneMatch(l -> l.contains("Exception") || l.contains("\tat "));

      // The watch is still alive: a valid edit applies.
      Files.writeString(file, yaml(hash, true, true, "3"));
      poll(Duration.ofSeconds(5), () -> !node.version().equals("v1"));
    }
  }

  @Test
  void authMethodsAndTimeoutsApplyToNewConnections(@TempDir Path dir) throws Exception {
    String hash = PasswordHash.create("pw".toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
    Path file = dir.resolve("node.yaml");
    Files.writeString(file, yaml(hash, true, false, "3"));
    ProxyConfig cfg = ConfigLoader.load(vertx, file).await(10, TimeUnit.SECONDS);
    Node node = Node.start(vertx, cfg, "v1", 2, null).await(30, TimeUnit.SECONDS);
    FileWatch.start(vertx, file, node, Duration.ofMillis(250)).await(10, TimeUnit.SECONDS);
    assertThat(methodChosen(node.port())).as("username-password").isEqualTo(2);

    Files.writeString(file, yaml(hash, true, false, "3").replace("methods: [username-password]", "methods: [none]")
        + "timeouts: { handshake: 1s }\n");
    poll(Duration.ofSeconds(5), () -> methodChosen(node.port()) == 0);
    // The new handshake deadline holds for new connections: a silent client is closed after about a second.
    try (java.net.Socket silent = new java.net.Socket("127.0.0.1", node.port())) {
      silent.setSoTimeout(8000);
      long start = System.nanoTime();
      assertThat(silent.getInputStream().read()).isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
    }
  }

  /** The method a fresh connection offering both no-auth and username/password gets. */
  private static int methodChosen(int port) {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      s.getOutputStream().write(new byte[] {5, 2, 0, 2});
      byte[] reply = s.getInputStream().readNBytes(2);
      return reply.length == 2 ? reply[1] & 0xff : -1;
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  private static void poll(Duration within, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("condition met within %s", within).isNegative();
      Thread.sleep(50);
    }
  }
}
