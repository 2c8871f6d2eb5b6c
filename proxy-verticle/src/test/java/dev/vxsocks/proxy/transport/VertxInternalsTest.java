package dev.vxsocks.proxy.transport;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.Transports;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The guard for Vert.x upgrades: every internal path of this package is the one the node picked on the Vert.x on the
 * class path, and works on a real loopback socket on the node's transport (epoll). When a new Vert.x changes what one
 * of them uses, the node still runs, on that class's portable fallback with one WARNING at start-up; this test is what
 * fails, saying which internal API broke and which class to fix. (An API removed outright already stops the build: the
 * internal classes are compiled against it. What this catches is what only shows at run time: reflection, a method
 * with another signature in a jar swapped in, the name of Vert.x's pipeline handler, how a paused socket queues.)
 */
class VertxInternalsTest {

  private Vertx vertx;

  @BeforeAll
  static void notForced() {
    assumeTrue(System.getProperty(Internals.PORTABLE_PROPERTY) == null,
        "-D" + Internals.PORTABLE_PROPERTY + " forces the portable paths; PortableFallbackTest covers those");
  }

  @AfterEach
  void close() throws Exception {
    if (vertx != null) {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void zeroCopyRunsOnNetSocketInternal() throws Exception {
    assertInternal("ZeroCopy", ZeroCopy.PATH, InternalZeroCopy.class);
    vertx = Transports.nativeVertx();
    CompletableFuture<String> seen = new CompletableFuture<>();
    int port = serve(socket -> {
      // Held first: what the client sends meanwhile must wait, then reach the relay's handler in order.
      ZeroCopy.hold(socket);
      vertx.setTimer(200, t -> {
        ZeroCopy.read(socket, buf -> {
          if (buf.readableBytes() > 0) {
            String text = buf.toString(StandardCharsets.US_ASCII);
            // Netty's own (pooled, direct) read buffer, not a copy; written back as it is.
            seen.complete(text + (buf.isDirect() ? " direct" : " heap"));
            ZeroCopy.write(socket, buf);
          } else {
            buf.release();
          }
        });
        socket.resume();
      });
    });
    try (Socket client = connect(port)) {
      client.getOutputStream().write("held".getBytes(StandardCharsets.US_ASCII));
      byte[] echo = client.getInputStream().readNBytes(4);
      assertThat(new String(echo, StandardCharsets.US_ASCII)).isEqualTo("held");
    }
    assertThat(seen.get(10, TimeUnit.SECONDS)).as(fix("ZeroCopy", InternalZeroCopy.class,
        "the relay no longer gets Netty's read buffers")).isEqualTo("held direct");
  }

  @Test
  void halfCloseRunsOnNettysChannel() throws Exception {
    assertInternal("HalfClose", HalfClose.PATH, InternalHalfClose.class);
    vertx = Transports.nativeVertx();
    CompletableFuture<List<String>> pipeline = new CompletableFuture<>();
    CompletableFuture<String> peerFin = new CompletableFuture<>();
    CompletableFuture<String> ourFin = new CompletableFuture<>();
    int port = serve(socket -> {
      boolean enabled = HalfClose.enable(socket);
      Channel channel = Transports.channel(socket);
      pipeline.complete(enabled ? channel.pipeline().names() : List.of("enable() returned false"));
      StringBuilder read = new StringBuilder();
      ZeroCopy.copying(socket, data -> {
        if (data.length() > 0) {
          read.append(data.toString(StandardCharsets.US_ASCII));
          return;
        }
        peerFin.complete(read + (channel.isActive() ? ", then FIN, channel open" : ", then FIN, channel closed"));
        HalfClose.shutdownOutput(socket).onComplete(ar -> {
          DuplexChannel ch = (DuplexChannel) channel;
          ourFin.complete(ar.succeeded() + ", output shut " + ch.isOutputShutdown() + ", past Netty "
              + ch.pipeline().names().contains(InternalHalfClose.GUARD_NAME));
        });
      });
    });
    try (Socket client = connect(port)) {
      OutputStream out = client.getOutputStream();
      out.write("request".getBytes(StandardCharsets.US_ASCII));
      client.shutdownOutput();
      assertThat(client.getInputStream().read()).as("our FIN reaches the peer").isEqualTo(-1);
    }
    assertThat(pipeline.get(10, TimeUnit.SECONDS)).as(fix("HalfClose", InternalHalfClose.class,
        "the end marker must sit right before Vert.x's handler, named \"" + InternalHalfClose.VERTX_HANDLER_NAME + "\""))
        .containsSubsequence(InternalHalfClose.MARKER_NAME, InternalHalfClose.VERTX_HANDLER_NAME);
    assertThat(peerFin.get(10, TimeUnit.SECONDS)).as(fix("HalfClose", InternalHalfClose.class,
        "the peer's FIN must arrive as an empty buffer after its data, the channel still open"))
        .isEqualTo("request, then FIN, channel open");
    assertThat(ourFin.get(10, TimeUnit.SECONDS)).as(fix("HalfClose", InternalHalfClose.class,
        "on epoll with nothing queued, our FIN goes to the socket directly and Netty reads it back"))
        .isEqualTo("true, output shut true, past Netty true");
  }

  @Test
  void directWritesRunsOnVertxConnectionsDirectQueue() throws Exception {
    assertInternal("DirectWrites", DirectWrites.PATH, InternalDirectWrites.class);
    assertThat(DirectWrites.available()).isTrue();
    vertx = Transports.nativeVertx();
    CompletableFuture<String> applied = new CompletableFuture<>();
    int port = serve(socket -> {
      boolean before = DirectWrites.isDirect(socket);
      boolean apply = DirectWrites.apply(socket);
      applied.complete(before + " " + apply + " " + DirectWrites.isDirect(socket));
      socket.write(Buffer.buffer("direct")).onComplete(ar -> socket.close());
    });
    try (Socket client = connect(port)) {
      assertThat(client.getInputStream().readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("direct");
    }
    assertThat(applied.get(10, TimeUnit.SECONDS)).as(fix("DirectWrites", InternalDirectWrites.class,
        "isDirect before apply, apply, isDirect after")).isEqualTo("false true true");
  }

  @Test
  void socketTransportRunsOnVertxsTransportSpi() throws Exception {
    assertInternal("SocketTransport", SocketTransport.PATH, LeanTransport.class);
    Transport preferred = SocketTransport.preferred();
    assertThat(preferred.name()).as("epoll is on this module's test class path").isEqualTo("epoll");
    assertThat(preferred.getClass().getEnclosingClass()).as(fix("SocketTransport", LeanTransport.class,
        "the node's transport must be the lean wrapper")).isEqualTo(LeanTransport.class);
    vertx = Transports.nativeVertx();
    assertThat(vertx.isNativeTransportEnabled()).isTrue();
    CompletableFuture<Boolean> keepAlive = new CompletableFuture<>();
    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0)
        .setTcpKeepAlive(true));
    server.connectHandler(s -> keepAlive.complete(Transports.channel(s).config().getOption(ChannelOption.SO_KEEPALIVE)));
    server.listen().await(10, TimeUnit.SECONDS);
    // Held until the end: Vert.x's Cleaner shuts an unreachable NetClient down, with a connect still under way.
    NetClient clients = vertx.createNetClient(new NetClientOptions());
    NetSocket client = clients.connect(server.actualPort(), "127.0.0.1").await(10, TimeUnit.SECONDS);
    assertThat(Transports.channel(client).config().getOption(ChannelOption.SO_KEEPALIVE)).isFalse();
    assertThat(keepAlive.get(10, TimeUnit.SECONDS)).as(fix("SocketTransport", LeanTransport.class,
        "an option configured away from the default must still be set")).isTrue();
    clients.close().await(10, TimeUnit.SECONDS);
  }

  /**
   * Every listening channel carries {@link AcceptBackoff}, before Netty's acceptor: a failed accept (simulated here:
   * EMFILE needs a process out of descriptors, which launcher's DescriptorExhaustionTest has) pauses accepting for
   * {@link AcceptBackoff#PAUSE_MS}, is logged by us and goes no further (Netty's acceptor would pause a second and
   * its pipeline log a WARNING per failure); a client that connects meanwhile is accepted after the pause.
   */
  @Test
  void acceptBackoffSitsOnEveryListeningChannel() throws Exception {
    assertInternal("SocketTransport", SocketTransport.PATH, LeanTransport.class);
    vertx = Transports.nativeVertx();
    BlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
    int port = serve(socket -> accepted.add(Transports.channel(socket)));
    try (Socket first = connect(port)) {
      Channel listener = accepted.poll(10, TimeUnit.SECONDS).parent();
      List<String> names = listener.pipeline().names();
      assertThat(listener.pipeline().get(AcceptBackoff.class)).as(fix("SocketTransport", LeanTransport.class,
          "the listening channel must get AcceptBackoff through the server bootstrap's handler; pipeline " + names))
          .isNotNull();
      assertThat(listener.pipeline().last().getClass().getSimpleName()).as(fix("SocketTransport", LeanTransport.class,
          "AcceptBackoff must sit before Netty's acceptor; pipeline " + names)).isEqualTo("ServerBootstrapAcceptor");
      CompletableFuture<Throwable> pastUs = new CompletableFuture<>();
      listener.pipeline().addLast(new ChannelInboundHandlerAdapter() {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
          pastUs.complete(cause);
        }
      });
      long failures = AcceptBackoff.failures();
      try (LogCapture log = new LogCapture(AcceptBackoff.class.getName(), Level.INFO)) {
        CompletableFuture<Boolean> autoRead = new CompletableFuture<>();
        listener.eventLoop().execute(() -> {
          listener.pipeline().fireExceptionCaught(new IOException("accept(..) failed: simulated EMFILE"));
          autoRead.complete(listener.config().isAutoRead());
        });
        assertThat(autoRead.get(10, TimeUnit.SECONDS)).as("accepting paused").isFalse();
        long start = System.nanoTime();
        try (Socket during = connect(port)) {
          assertThat(accepted.poll(10, TimeUnit.SECONDS)).as("accepted once the pause is over").isNotNull();
          long ms = (System.nanoTime() - start) / 1_000_000;
          System.out.println("a client connecting during the pause was accepted after " + ms + " ms");
          assertThat(ms).isGreaterThanOrEqualTo(AcceptBackoff.PAUSE_MS / 2);
        }
        assertThat(AcceptBackoff.failures()).isEqualTo(failures + 1);
        assertThat(log.await("accept failed on ", 5000)).contains("simulated EMFILE", "accepting again after 100ms");
      }
      assertThat(pastUs).as("the failure stops at AcceptBackoff").isNotDone();
    }
  }

  /** Fails, loudly, unless {@code concern} runs on {@code internal}. */
  private static void assertInternal(String concern, Object picked, Class<?> internal) {
    if (!internal.isInstance(picked)) {
      fail("Vert.x " + Internals.vertxVersion() + " broke the internal path of " + concern + ": "
          + Internals.portableBecause(concern) + ". The node would run " + concern + " on "
          + picked.getClass().getSimpleName() + " (slower or costlier, see its WARNING line). Fix "
          + internal.getSimpleName() + " for this Vert.x version.");
    }
  }

  private static String fix(String concern, Class<?> internal, String what) {
    return "Vert.x " + Internals.vertxVersion() + " changed what " + concern + "'s internal path relies on (fix "
        + internal.getSimpleName() + "): " + what;
  }

  private int serve(Consumer<NetSocket> handler) throws Exception {
    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(handler::accept);
    return server.listen().await(10, TimeUnit.SECONDS).actualPort();
  }

  private static Socket connect(int port) throws Exception {
    Socket client = new Socket();
    client.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    client.setSoTimeout(10_000);
    return client;
  }
}
