package dev.vxsocks.proxy.transport;

import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link HalfClose} on both transports, on its own: the FIN it sends follows everything written before it, the socket
 * still reads afterwards, and the peer's FIN arrives as the empty buffer. On epoll, {@code shutdownOutput} goes to the
 * socket directly rather than through Netty's channel, so this checks that Netty still sees the output as shut down.
 */
class HalfCloseTest {

  private Vertx vertx;

  @AfterEach
  void close() throws Exception {
    if (vertx != null) {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"nio", "native"})
  void finFollowsTheWritesAndTheReadSideStaysOpen(String transport) throws Exception {
    vertx = Loopback.vertx(transport);
    byte[] written = new byte[300_000];
    for (int i = 0; i < written.length; i++) {
      written[i] = (byte) (i * 31);
    }
    CompletableFuture<Boolean> outputShutdown = new CompletableFuture<>();
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    CompletableFuture<Boolean> peerFin = new CompletableFuture<>();

    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(socket -> {
      assertThat(HalfClose.enable(socket)).isTrue();
      ZeroCopy.copying(socket, data -> {
        if (data.length() == 0) {
          peerFin.complete(((DuplexChannel) Loopback.channel(socket)).isActive());
          socket.close();
        } else {
          received.writeBytes(data.getBytes());
        }
      });
      socket.write(Buffer.buffer(written)).compose(v -> HalfClose.shutdownOutput(socket)).onComplete(ar -> {
        DuplexChannel ch = (DuplexChannel) Loopback.channel(socket);
        outputShutdown.complete(ar.succeeded() && ch.isOutputShutdown() && !ch.isInputShutdown());
      });
    });
    int port = server.listen().await(10, TimeUnit.SECONDS).actualPort();

    try (Socket client = new Socket()) {
      client.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      client.setSoTimeout(10_000);
      InputStream in = client.getInputStream();
      byte[] all = in.readAllBytes(); // to the proxy's FIN
      assertThat(all).as("everything written before the FIN").isEqualTo(written);
      assertThat(outputShutdown.get(10, TimeUnit.SECONDS)).as("succeeded, output shut down, input open").isTrue();

      OutputStream out = client.getOutputStream();
      out.write("still heard after the FIN".getBytes(StandardCharsets.US_ASCII));
      client.shutdownOutput();
      assertThat(peerFin.get(10, TimeUnit.SECONDS)).as("the peer's FIN arrives while the channel is open").isTrue();
    }
    assertThat(received.toString(StandardCharsets.US_ASCII)).isEqualTo("still heard after the FIN");
  }
}
