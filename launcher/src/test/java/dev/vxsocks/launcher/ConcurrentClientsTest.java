package dev.vxsocks.launcher;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.LoopbackTargets;
import dev.vxsocks.testing.SharedTargets;
import dev.vxsocks.testing.TestProxy;
import dev.vxsocks.testing.Transports;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.vxsocks.testing.SharedTargets.answerAfterEof;
import static dev.vxsocks.testing.SharedTargets.echo;
import static dev.vxsocks.testing.SharedTargets.http;
import static dev.vxsocks.testing.TestProxy.PASSWORD;
import static dev.vxsocks.testing.TestProxy.USER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several different clients at once through one node (two connection verticles): curl downloading 4 MiB each, ncat
 * half-closing, PySocks echoing. Every stream must arrive intact, and afterwards the node must hold no session.
 */
@ExtendWith({VertxExtension.class, SharedTargets.class})
class ConcurrentClientsTest {

  private static final String BIG_SHA = LoopbackTargets.hex(LoopbackTargets.sha256(LoopbackTargets.bigPayload()));
  private final List<Vertx> ownVertx = new ArrayList<>();
  private LogCapture log;

  @BeforeEach
  void capture() {
    log = new LogCapture();
  }

  @AfterEach
  void stop() throws Exception {
    log.close();
    for (Vertx v : ownVertx) {
      v.close().await(20, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "mixed clients at once on {0}")
  @ValueSource(strings = {"nio", "native"})
  void mixedClientsAtOnce(String transport, Vertx injected) throws Exception {
    Vertx vertx = injected;
    if ("native".equals(transport)) {
      vertx = Transports.nativeVertx();
      ownVertx.add(vertx);
    }
    Node node = ProxyFixture.start(vertx, TestProxy.config("username-password")).await(20, TimeUnit.SECONDS);
    String auth = USER + ":" + PASSWORD;

    List<Check> checks = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      List<String> cmd = CurlClientTest.curl(i % 2 == 0 ? "--socks5-hostname" : "--socks5", "127.0.0.1:" + node.port());
      cmd.addAll(List.of("--proxy-user", auth, "http://" + (i % 2 == 0 ? "localhost" : "[::1]") + ":" + http().port() + "/big"));
      checks.add(new Check(cmd, new byte[0], r -> {
        assertThat(r.stdout().length).as(r.describe()).isEqualTo(LoopbackTargets.BIG);
        assertThat(LoopbackTargets.hex(LoopbackTargets.sha256(r.stdout()))).as(r.describe()).isEqualTo(BIG_SHA);
      }));
    }
    for (int i = 0; i < 3; i++) {
      byte[] request = new byte[50_000 + i];
      new Random(i).nextBytes(request);
      List<String> cmd = NcatClientTest.ncat(node, auth);
      cmd.addAll(List.of(i == 1 ? "::1" : "127.0.0.1", String.valueOf(answerAfterEof().port())));
      byte[] expected = LoopbackTargets.answerAfterEof(request.length, LoopbackTargets.sha256(request));
      checks.add(new Check(cmd, request, r -> assertThat(r.stdout()).as(r.describe()).isEqualTo(expected)));
    }
    for (int i = 0; i < 3; i++) {
      byte[] line = ("PySocks client " + i + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      List<String> cmd = PySocksClientTest.pysocks(node, "localhost", echo().port(), "echo", true, PASSWORD);
      checks.add(new Check(cmd, line, r -> assertThat(r.stdout()).as(r.describe()).isEqualTo(line)));
    }
    // Resolve the client binaries on this thread, so that a missing one fails here with its package name.
    Clients.curl();
    Clients.ncat();
    Clients.pysocksPython();

    ExecutorService pool = Executors.newFixedThreadPool(checks.size());
    try {
      List<Future<Clients.Result>> running = new ArrayList<>();
      for (Check c : checks) {
        running.add(pool.submit(() -> Clients.run(c.command, c.stdin)));
      }
      for (int i = 0; i < checks.size(); i++) {
        Clients.Result r = running.get(i).get(Clients.TIMEOUT_SECONDS + 10, TimeUnit.SECONDS);
        assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
        checks.get(i).verify.accept(r);
      }
    } finally {
      pool.shutdownNow();
    }

    // Every client has exited; the node must get back to no open session (waited for, bounded).
    for (int i = 0; i < 100 && node.server().stats().openSessions() > 0; i++) {
      Thread.sleep(100);
    }
    assertThat(node.server().stats().openSessions()).as("sessions still open\nproxy log:\n" + log.text()).isZero();
    assertThat(node.server().stats().pendingHandshakes()).isZero();
    assertThat(node.server().stats().totalSessions()).isEqualTo(checks.size());
  }

  private record Check(List<String> command, byte[] stdin, java.util.function.Consumer<Clients.Result> verify) {
  }
}
