package dev.vxsocks.proxy.transport;

import io.netty.channel.Channel;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link DirectWrites} on this Vert.x version: the direct path exists, a socket given it writes straight to Netty,
 * fills up at {@link DirectWrites#WRITE_BUFFER_BYTES} of pending bytes (not Netty's default 64 KiB), drains, and
 * loses nothing. The proxy's sessions all run with it, so the rest of the suite covers it end to end.
 */
class DirectWritesTest {

  /** More than any loopback socket pair buffers in the kernel (4 MiB send + 6 MiB receive at most), plus ours. */
  private static final int TOTAL = 16 * 1024 * 1024;
  private static final int CHUNK = 64 * 1024;

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void thisVertxHasTheDirectPath() {
    assertThat(DirectWrites.available())
        .as("Vert.x no longer has VertxConnection.outboundMessageQueue / DirectOutboundMessageQueue: see InternalDirectWrites")
        .isTrue();
  }

  @Test
  void fillsAtTheRaisedMarkDrainsAndLosesNothing() throws Exception {
    byte[] data = new byte[TOTAL];
    new Random(7).nextBytes(data);
    CompletableFuture<Boolean> directBefore = new CompletableFuture<>();
    CompletableFuture<Boolean> directAfter = new CompletableFuture<>();
    CompletableFuture<Long> pendingWhenFull = new CompletableFuture<>();
    CompletableFuture<Void> drained = new CompletableFuture<>();

    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(socket -> {
      directBefore.complete(DirectWrites.isDirect(socket));
      directAfter.complete(DirectWrites.apply(socket) && DirectWrites.isDirect(socket));
      new Writer(socket, data, pendingWhenFull, drained).run();
    });
    int port = server.listen().await(10, TimeUnit.SECONDS).actualPort();

    try (Socket client = new Socket()) {
      client.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      client.setSoTimeout(20_000);
      // Not reading yet: the server fills the kernel's buffers, then its own, until writeQueueFull().
      long pending = pendingWhenFull.get(20, TimeUnit.SECONDS);
      assertThat(directBefore.get()).as("a new socket has Vert.x's queue").isFalse();
      assertThat(directAfter.get()).as("apply() gave it the direct path").isTrue();
      assertThat(pending).as("Netty's pending bytes when writeQueueFull() turned true")
          .isGreaterThanOrEqualTo(DirectWrites.WRITE_BUFFER_BYTES);

      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      long received = 0;
      byte[] buf = new byte[CHUNK];
      InputStream in = client.getInputStream();
      for (int n; (n = in.read(buf)) >= 0; ) {
        sha.update(buf, 0, n);
        received += n;
      }
      assertThat(drained).as("the drain handler ran").isDone();
      assertThat(received).isEqualTo(TOTAL);
      assertThat(sha.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
    }
  }

  /** Writes {@code data} in chunks with the Pump pattern's back-pressure, then closes. Runs on the event loop. */
  private static final class Writer {
    private final NetSocket socket;
    private final byte[] data;
    private final CompletableFuture<Long> pendingWhenFull;
    private final CompletableFuture<Void> drained;
    private int offset;

    Writer(NetSocket socket, byte[] data, CompletableFuture<Long> pendingWhenFull, CompletableFuture<Void> drained) {
      this.socket = socket;
      this.data = data;
      this.pendingWhenFull = pendingWhenFull;
      this.drained = drained;
    }

    void run() {
      while (offset < data.length) {
        int n = Math.min(CHUNK, data.length - offset);
        socket.write(Buffer.buffer().appendBytes(data, offset, n));
        offset += n;
        if (socket.writeQueueFull()) {
          Channel channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
          pendingWhenFull.complete(channel.unsafe().outboundBuffer().totalPendingWriteBytes());
          socket.drainHandler(v -> {
            drained.complete(null);
            run();
          });
          return;
        }
      }
      socket.end();
    }
  }
}
