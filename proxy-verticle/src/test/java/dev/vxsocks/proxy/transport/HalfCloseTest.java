package dev.vxsocks.proxy.transport;

import dev.vxsocks.testing.Transports;

import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.Future;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link HalfClose} on both transports, on its own: the FIN it sends follows everything written before it, the socket
 * still reads afterwards, and the peer's FIN arrives as the empty buffer. A write after our FIN, or one still queued
 * in Netty when it is sent, fails visibly instead of vanishing; Netty's channel stays coherent (output shut down,
 * input open). On epoll, {@code shutdownOutput} normally goes to the socket directly rather than through Netty's
 * channel, which these tests cover as well.
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
    vertx = Transports.vertx(transport);
    byte[] written = pattern(300_000);
    CompletableFuture<Boolean> outputShutdown = new CompletableFuture<>();
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    CompletableFuture<Boolean> peerFin = new CompletableFuture<>();

    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(socket -> {
      assertThat(HalfClose.enable(socket)).isTrue();
      ZeroCopy.copying(socket, data -> {
        if (data.length() == 0) {
          peerFin.complete(((DuplexChannel) Transports.channel(socket)).isActive());
          socket.close();
        } else {
          received.writeBytes(data.getBytes());
        }
      });
      socket.write(Buffer.buffer(written)).compose(v -> HalfClose.shutdownOutput(socket)).onComplete(ar -> {
        DuplexChannel ch = (DuplexChannel) Transports.channel(socket);
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

  /**
   * A write after our FIN fails at once, and only the write: the channel stays open for reading, Netty says its
   * output is shut down, and the peer sees a clean end of stream. (The FIN used to be sent behind Netty's back on
   * epoll: Netty then wrote the late bytes into the shut socket, got EPIPE and closed the whole connection.)
   */
  @ParameterizedTest
  @ValueSource(strings = {"nio", "native"})
  void aWriteAfterTheFinFailsAndTheReadSideStaysOpen(String transport) throws Exception {
    vertx = Transports.vertx(transport);
    CompletableFuture<Throwable> lateWrite = new CompletableFuture<>();
    CompletableFuture<String> stateAfter = new CompletableFuture<>();
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    CompletableFuture<Boolean> peerFin = new CompletableFuture<>();

    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(socket -> {
      DirectWrites.apply(socket);
      assertThat(HalfClose.enable(socket)).isTrue();
      ZeroCopy.copying(socket, data -> {
        if (data.length() == 0) {
          peerFin.complete(Transports.channel(socket).isActive());
          socket.close();
        } else {
          received.writeBytes(data.getBytes());
        }
      });
      socket.write(Buffer.buffer("before")).compose(v -> HalfClose.shutdownOutput(socket)).onComplete(ar -> {
        Future<Void> late = socket.write(Buffer.buffer("after the FIN"));
        late.onComplete(w -> {
          lateWrite.complete(w.failed() ? w.cause() : null);
          DuplexChannel ch = (DuplexChannel) Transports.channel(socket);
          stateAfter.complete("shutdown " + ar.succeeded() + ", active " + ch.isActive() + ", output shut "
              + ch.isOutputShutdown() + ", input shut " + ch.isInputShutdown());
        });
      });
    });
    int port = server.listen().await(10, TimeUnit.SECONDS).actualPort();

    try (Socket client = new Socket()) {
      client.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      client.setSoTimeout(10_000);
      assertThat(client.getInputStream().readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("before");
      assertThat(lateWrite.get(10, TimeUnit.SECONDS)).as("the write after the FIN failed").isNotNull();
      assertThat(stateAfter.get(10, TimeUnit.SECONDS))
          .isEqualTo("shutdown true, active true, output shut true, input shut false");

      client.getOutputStream().write("heard after the failed write".getBytes(StandardCharsets.US_ASCII));
      client.shutdownOutput();
      assertThat(peerFin.get(10, TimeUnit.SECONDS)).as("the peer's FIN arrives while the channel is open").isTrue();
    }
    assertThat(received.toString(StandardCharsets.US_ASCII)).isEqualTo("heard after the failed write");
  }

  /**
   * FIN while Netty still holds writes (the peer does not read, the kernel's buffers are full): every one of those
   * writes completes, those that did not make it out failing, and so does a write after the FIN; what the peer
   * reads is a prefix of what was written, ending with a clean FIN. (The FIN used to go to the socket behind Netty's
   * back on epoll: Netty then never flushed its queue again and the pending futures never completed.)
   */
  @ParameterizedTest
  @ValueSource(strings = {"nio", "native"})
  void writesStillQueuedAtTheFinFailVisibly(String transport) throws Exception {
    vertx = Transports.vertx(transport);
    byte[] data = pattern(16 * 1024 * 1024);
    int chunk = 64 * 1024;
    List<CompletableFuture<Boolean>> writes = new ArrayList<>();
    CompletableFuture<Boolean> shutdown = new CompletableFuture<>();
    CompletableFuture<Throwable> lateWrite = new CompletableFuture<>();

    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(socket -> {
      DirectWrites.apply(socket);
      assertThat(HalfClose.enable(socket)).isTrue();
      ZeroCopy.copying(socket, b -> { });
      // Everything at once: far more than the kernel takes while the client is not reading.
      for (int offset = 0; offset < data.length; offset += chunk) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        writes.add(done);
        socket.write(Buffer.buffer().appendBytes(data, offset, chunk)).onComplete(ar -> done.complete(ar.succeeded()));
      }
      // Let the event loop flush what the kernel takes first, so that the rest waits in Netty for the socket.
      vertx.setTimer(200, t -> HalfClose.shutdownOutput(socket).onComplete(ar -> {
        shutdown.complete(ar.succeeded());
        socket.write(Buffer.buffer("late")).onComplete(w -> lateWrite.complete(w.failed() ? w.cause() : null));
      }));
    });
    int port = server.listen().await(10, TimeUnit.SECONDS).actualPort();

    try (Socket client = new Socket()) {
      client.setReceiveBufferSize(64 * 1024);
      client.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      client.setSoTimeout(10_000);
      assertThat(shutdown.get(10, TimeUnit.SECONDS)).as("shutdownOutput succeeded").isTrue();
      assertThat(lateWrite.get(10, TimeUnit.SECONDS)).as("the write after the FIN failed").isNotNull();
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      long failed = writes.stream().filter(w -> !w.join()).count();
      long succeeded = writes.size() - failed;
      assertThat(failed).as("writes that were still queued in Netty at the FIN, failed").isPositive();

      byte[] got = client.getInputStream().readAllBytes(); // to the FIN
      assertThat(got.length).as("bytes read before the FIN").isBetween((int) (succeeded * chunk), data.length - 1);
      assertThat(got).as("a prefix of what was written").isEqualTo(Arrays.copyOf(data, got.length));
    }
  }

  private static byte[] pattern(int length) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) (i * 31);
    }
    return bytes;
  }
}
