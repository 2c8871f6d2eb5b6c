package dev.vxsocks.launcher;

import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * BIND with a SOCKS client nobody here wrote: Dante's libdsocks (Debian dante-client), preloaded by {@code socksify}
 * into a plain TCP server, turns its bind()/listen()/accept() into a SOCKS5 BIND through the proxy: the first reply
 * becomes the server's address, the second reply the accepted peer's.
 */
@ExtendWith(VertxExtension.class)
class DanteBindTest {

  @Test
  void socksifiedServerAcceptsAPeerThroughBind(Vertx vertx, @TempDir Path dir) throws Exception {
    JsonObject config = TestProxy.config("none");
    config.getJsonObject("rules").getJsonArray("request")
        .add(new JsonObject().put("action", "allow").put("commands", new JsonArray().add("bind")));
    Node node = ProxyFixture.start(vertx, config).await(20, TimeUnit.SECONDS);

    String socksify = Clients.onPath("socksify", "dante-client");
    String gcc = Clients.onPath("gcc", "gcc");
    Path server = dir.resolve("bind_accept");
    Clients.Result compiled = Clients.run(List.of(gcc, "-o", server.toString(), Clients.resource("bind_accept.c")), new byte[0]);
    assertThat(compiled.exit()).as(compiled.describe()).isZero();
    Path conf = Files.writeString(dir.resolve("socks.conf"), String.join("\n",
        "logoutput: stderr",
        "route {",
        "  from: 0.0.0.0/0 to: 0.0.0.0/0 via: 127.0.0.1 port = " + node.port(),
        "  proxyprotocol: socks_v5",
        "  command: bind connect bindreply",
        "  method: none",
        "}", ""));

    ProcessBuilder pb = new ProcessBuilder(socksify, server.toString()).redirectErrorStream(true);
    pb.environment().put("SOCKS_CONF", conf.toString());
    Process p = pb.start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l = r.readLine(); l != null; l = r.readLine()) {
          lines.add(l);
        }
      } catch (java.io.IOException ignored) {
        // process ended
      }
    }, "socksify-output");
    reader.setDaemon(true);
    reader.start();
    try {
      String bnd = await(lines, "BND ");
      String[] parts = bnd.split(" ");
      assertThat(parts[1]).as("the first reply's BND.ADDR, as the server sees its own address").isEqualTo("127.0.0.1");
      int port = Integer.parseInt(parts[2]);
      try (Socket peer = new Socket()) {
        peer.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        peer.setSoTimeout(10_000);
        assertThat(new String(peer.getInputStream().readNBytes(25), StandardCharsets.US_ASCII))
            .isEqualTo("hello from the bind side\n");
        peer.getOutputStream().write("hi back".getBytes(StandardCharsets.US_ASCII));
        String accepted = await(lines, "PEER ");
        assertThat(accepted).as("the second reply's BND.ADDR/PORT: our peer socket")
            .isEqualTo("PEER 127.0.0.1 " + peer.getLocalPort());
        assertThat(await(lines, "GOT ")).isEqualTo("GOT hi back");
      }
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(String.join("\n", lines)).isZero();
    } finally {
      p.destroyForcibly();
    }
  }

  private static String await(BlockingQueue<String> lines, String prefix) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    StringBuilder seen = new StringBuilder();
    while (System.nanoTime() < deadline) {
      String l = lines.poll(200, TimeUnit.MILLISECONDS);
      if (l == null) {
        continue;
      }
      if (l.startsWith(prefix)) {
        return l;
      }
      seen.append(l).append('\n');
    }
    return fail("socksify'd server printed no '" + prefix + "' line within 15 s; it printed:\n" + seen);
  }
}
