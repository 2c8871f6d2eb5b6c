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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Authenticator;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
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
 * 4 MiB of random bytes each way, checked by SHA-256 at the other end, on Vert.x's NIO transport and on epoll (the
 * transport {@code Main} prefers). Large enough to fill socket buffers, so the relay's back-pressure is exercised.
 */
@ExtendWith({VertxExtension.class, SharedTargets.class})
class LargeTransferTest {

  private static final byte[] BIG = LoopbackTargets.bigPayload();
  private static final String BIG_SHA = LoopbackTargets.hex(LoopbackTargets.sha256(BIG));
  private final List<Vertx> ownVertx = new ArrayList<>();
  private LogCapture log;

  @BeforeEach
  void capture() {
    log = new LogCapture();
  }

  @AfterEach
  void stop() throws Exception {
    Authenticator.setDefault(null);
    log.close();
    for (Vertx v : ownVertx) {
      v.close().await(20, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "curl downloads 4 MiB on {0}, credentials: {1}")
  @CsvSource({"nio, false", "nio, true", "native, false", "native, true"})
  void curlDownload(String transport, boolean credentials, Vertx injected) throws Exception {
    Node node = proxy(transport, credentials, injected);
    List<String> cmd = CurlClientTest.curl("--socks5-hostname", "127.0.0.1:" + node.port());
    if (credentials) {
      cmd.addAll(List.of("--proxy-user", USER + ":" + PASSWORD));
    }
    cmd.add("http://localhost:" + http().port() + "/big");

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.stdout().length).as("proxy log:\n" + log.text()).isEqualTo(BIG.length);
    assertThat(LoopbackTargets.hex(LoopbackTargets.sha256(r.stdout()))).isEqualTo(BIG_SHA);
  }

  @ParameterizedTest(name = "curl uploads 4 MiB on {0}, credentials: {1}")
  @CsvSource({"nio, false", "native, true"})
  void curlUpload(String transport, boolean credentials, Vertx injected, @TempDir Path dir) throws Exception {
    Node node = proxy(transport, credentials, injected);
    Path file = Files.write(dir.resolve("big.bin"), BIG);
    List<String> cmd = CurlClientTest.curl("--socks5", "127.0.0.1:" + node.port());
    if (credentials) {
      cmd.addAll(List.of("--proxy-user", USER + ":" + PASSWORD));
    }
    cmd.addAll(List.of("--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream",
        "http://[::1]:" + http().port() + "/upload"));

    Clients.Result r = Clients.run(cmd, new byte[0]);

    assertThat(r.exit()).as(r.describe() + "\nproxy log:\n" + log.text()).isZero();
    assertThat(r.out()).as(r.describe()).isEqualTo("received " + BIG.length + " bytes sha256 " + BIG_SHA + "\n");
  }

  /** The JDK client sends 4 MiB and FIN; the target answers after EOF. */
  @ParameterizedTest(name = "JDK client uploads 4 MiB then half-closes, on {0}, credentials: {1}")
  @CsvSource({"nio, false", "native, true"})
  void jdkUploadThenHalfClose(String transport, boolean credentials, Vertx injected) throws Exception {
    Node node = proxy(transport, credentials, injected);
    Authenticator.setDefault(new JdkSocksClientTest.RecordingAuthenticator(PASSWORD));

    try (Socket s = JdkSocksClientTest.viaProxy(node)) {
      s.connect(new InetSocketAddress(LoopbackTargets.IPV4, answerAfterEof().port()), JdkSocksClientTest.TIMEOUT_MS);
      s.getOutputStream().write(BIG);
      s.shutdownOutput();
      assertThat(s.getInputStream().readAllBytes()).as("proxy log:\n" + log.text())
          .isEqualTo(LoopbackTargets.answerAfterEof(BIG.length, LoopbackTargets.sha256(BIG)));
    }
  }

  /** 4 MiB up and the same 4 MiB back at the same time through an echo target: both directions full at once. */
  @ParameterizedTest(name = "JDK client, 4 MiB full-duplex echo on {0}")
  @CsvSource({"nio", "native"})
  void jdkFullDuplexEcho(String transport, Vertx injected) throws Exception {
    Node node = proxy(transport, false, injected);
    ExecutorService writer = Executors.newSingleThreadExecutor();
    try (Socket s = JdkSocksClientTest.viaProxy(node)) {
      s.connect(new InetSocketAddress(LoopbackTargets.IPV6, echo().port()), JdkSocksClientTest.TIMEOUT_MS);
      Future<?> sent = writer.submit(() -> {
        OutputStream out = s.getOutputStream();
        for (int off = 0; off < BIG.length; off += 16 * 1024) {
          out.write(BIG, off, Math.min(16 * 1024, BIG.length - off));
        }
        s.shutdownOutput();
        return null;
      });
      MessageDigest sha = LoopbackTargets.digest();
      long total = 0;
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64 * 1024];
      // Bounded: every read returns data or EOF, or throws after the socket timeout.
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        sha.update(buf, 0, n);
        total += n;
      }
      sent.get(20, TimeUnit.SECONDS);
      assertThat(total).as("proxy log:\n" + log.text()).isEqualTo(BIG.length);
      assertThat(LoopbackTargets.hex(sha.digest())).isEqualTo(BIG_SHA);
    } finally {
      writer.shutdownNow();
    }
  }

  private Node proxy(String transport, boolean credentials, Vertx injected) throws Exception {
    Vertx vertx = injected;
    if ("native".equals(transport)) {
      vertx = Transports.nativeVertx();
      ownVertx.add(vertx);
    }
    return ProxyFixture.start(vertx, TestProxy.config(credentials ? "username-password" : "none"))
        .await(20, TimeUnit.SECONDS);
  }
}
