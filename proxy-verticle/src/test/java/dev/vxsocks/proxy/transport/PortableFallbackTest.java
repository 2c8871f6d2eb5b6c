package dev.vxsocks.proxy.transport;

import dev.vxsocks.proxy.relay.Relay;
import dev.vxsocks.testing.Transports;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.transport.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The portable fallbacks, forced for all four classes ({@code -Dvxsocks.transport.portable=all}, which the pom's
 * {@code portable-fallbacks} execution sets for this class alone; without it, this is skipped): they are the ones picked,
 * each said in one WARNING line, and the relay still does its job on them: bytes copied both ways, and a FIN handled
 * as documented in {@link PortableHalfClose} (it closes the connection, the relay ends, nothing flows back after it).
 */
class PortableFallbackTest {

  private static final Logger INTERNALS_LOG = Logger.getLogger(Internals.class.getName());
  private static final List<String> WARNINGS = new CopyOnWriteArrayList<>();
  private static final Handler CAPTURE = new Handler() {
    @Override
    public void publish(LogRecord r) {
      if (r.getLevel() == Level.WARNING) {
        WARNINGS.add(r.getMessage());
      }
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  };

  private Vertx vertx;
  private ServerSocket target;

  @BeforeAll
  static void forced() {
    assumeTrue("all".equals(System.getProperty(Internals.PORTABLE_PROPERTY)),
        "runs in the pom's portable-fallbacks execution, with -D" + Internals.PORTABLE_PROPERTY + "=all");
    // Before anything in the package is loaded: the picks are made, and logged, on first use.
    INTERNALS_LOG.addHandler(CAPTURE);
    assertThat(ZeroCopy.PATH).isNotNull();
  }

  @AfterAll
  static void stopCapture() {
    INTERNALS_LOG.removeHandler(CAPTURE);
  }

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.builder().withTransport(SocketTransport.preferred()).build();
    target = new ServerSocket();
    target.bind(new InetSocketAddress("127.0.0.1", 0));
  }

  @AfterEach
  void stop() throws Exception {
    target.close();
    vertx.close().await(20, TimeUnit.SECONDS);
  }

  @Test
  void everyClassRunsPortableAndSaysSoOnce() {
    assertThat(ZeroCopy.PATH).isInstanceOf(PortableZeroCopy.class);
    assertThat(HalfClose.PATH).isInstanceOf(PortableHalfClose.class);
    assertThat(DirectWrites.PATH).isInstanceOf(PortableDirectWrites.class);
    assertThat(DirectWrites.available()).isFalse();
    assertThat(SocketTransport.PATH).isInstanceOf(PortableTransport.class);
    Transport transport = SocketTransport.preferred();
    assertThat(transport.getClass().getEnclosingClass()).as("not the lean wrapper").isNotEqualTo(LeanTransport.class);
    assertThat(WARNINGS).as("one WARNING per class, naming it and the cost").hasSize(4)
        .anySatisfy(w -> assertThat(w).startsWith("ZeroCopy ").contains("copied"))
        .anySatisfy(w -> assertThat(w).startsWith("HalfClose ").contains("no TCP half-close"))
        .anySatisfy(w -> assertThat(w).startsWith("DirectWrites ").contains("9 KiB more per session"))
        .anySatisfy(w -> assertThat(w).startsWith("SocketTransport ").contains("setsockopt"));
  }

  @Test
  void halfCloseEnableTellsAnOpenSocketFromAClosedOne() throws Exception {
    CompletableFuture<String> enabled = new CompletableFuture<>();
    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(socket -> {
      boolean open = HalfClose.enable(socket);
      socket.close().onComplete(v -> enabled.complete(open + " " + HalfClose.enable(socket)));
    });
    int port = server.listen().await(10, TimeUnit.SECONDS).actualPort();
    try (Socket client = new Socket("127.0.0.1", port)) {
      client.setSoTimeout(10_000);
      assertThat(enabled.get(10, TimeUnit.SECONDS)).as("open, then closed").isEqualTo("true false");
      assertThat(client.getInputStream().read()).as("closed on the server's side").isEqualTo(-1);
    }
  }

  /**
   * Without {@link AcceptBackoff} a failed accept (simulated) is Netty's business: its acceptor stops accepting (for
   * a second) and passes the failure on down the pipeline (whose tail logs it), so the loop does not spin either.
   */
  @Test
  void aFailedAcceptPausesAcceptingTheNettyWay() throws Exception {
    CompletableFuture<Channel> accepted = new CompletableFuture<>();
    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(socket -> accepted.complete(Transports.channel(socket)));
    int port = server.listen().await(10, TimeUnit.SECONDS).actualPort();
    try (Socket client = new Socket("127.0.0.1", port)) {
      Channel listener = accepted.get(10, TimeUnit.SECONDS).parent();
      assertThat(listener.pipeline().get(AcceptBackoff.class)).isNull();
      CompletableFuture<Throwable> passedOn = new CompletableFuture<>();
      listener.pipeline().addLast(new ChannelInboundHandlerAdapter() {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
          passedOn.complete(cause);
        }
      });
      CompletableFuture<Boolean> autoRead = new CompletableFuture<>();
      listener.eventLoop().execute(() -> {
        listener.pipeline().fireExceptionCaught(new IOException("accept(..) failed: simulated EMFILE"));
        autoRead.complete(listener.config().isAutoRead());
      });
      assertThat(autoRead.get(10, TimeUnit.SECONDS)).as("Netty's acceptor paused accepting").isFalse();
      assertThat(passedOn.get(10, TimeUnit.SECONDS)).hasMessageContaining("simulated EMFILE");
    }
  }

  /** 8 MiB up through the relay and, echoed by the target, 8 MiB down, both at once; nothing lost or reordered. */
  @Test
  void theRelayCopiesBothWays() throws Exception {
    byte[] data = new byte[8 * 1024 * 1024];
    new Random(11).nextBytes(data);
    CompletableFuture<String> ended = new CompletableFuture<>();
    int port = relayTo(ended);
    Thread echo = new Thread(() -> {
      try (Socket s = target.accept()) {
        s.getInputStream().transferTo(s.getOutputStream());
      } catch (Exception e) {
        // the test fails on what the client reads
      }
    });
    echo.start();
    try (Socket client = new Socket("127.0.0.1", port)) {
      client.setSoTimeout(20_000);
      CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
        try {
          client.getOutputStream().write(data);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      byte[] back = client.getInputStream().readNBytes(data.length);
      sent.get(20, TimeUnit.SECONDS);
      assertThat(MessageDigest.getInstance("SHA-256").digest(back))
          .isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
    }
    assertThat(ended.get(10, TimeUnit.SECONDS)).contains("closed");
    echo.join(10_000);
  }

  /**
   * No half-close: the client's request and FIN reach the target as the request and the end of the connection; the
   * relay ends at once, and the target's reply, sent after the client's FIN, never reaches the client (with the
   * internal path it would: see HalfCloseTest and the launcher's NcatClientTest).
   */
  @Test
  void aFinClosesTheConnectionAndEndsTheRelay() throws Exception {
    CompletableFuture<String> ended = new CompletableFuture<>();
    int port = relayTo(ended);
    try (Socket client = new Socket("127.0.0.1", port)) {
      client.setSoTimeout(10_000);
      try (Socket upstream = target.accept()) {
        upstream.setSoTimeout(10_000);
        OutputStream out = client.getOutputStream();
        out.write("request".getBytes(StandardCharsets.US_ASCII));
        client.shutdownOutput();

        InputStream in = upstream.getInputStream();
        assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).as("the request, then the end")
            .isEqualTo("request");
        assertThat(ended.get(10, TimeUnit.SECONDS)).as("the relay ended on the client's close").contains("client closed");
        try {
          upstream.getOutputStream().write("reply".getBytes(StandardCharsets.US_ASCII));
        } catch (Exception e) {
          // the proxy may already have reset the connection
        }
      }
      assertThat(client.getInputStream().readAllBytes()).as("nothing flows back after the FIN").isEmpty();
    }
  }

  /**
   * A proxy in miniature, as the session sets its sockets up: the accepted client socket and a connection to the
   * target, each with DirectWrites, HalfClose and held by ZeroCopy, then a {@link Relay} between them.
   */
  private int relayTo(CompletableFuture<String> ended) throws Exception {
    NetClient upstreams = vertx.createNetClient();
    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectHandler(client -> {
      prepare(client);
      Future<NetSocket> connected = upstreams.connect(target.getLocalPort(), "127.0.0.1");
      connected.onSuccess(upstream -> {
        prepare(upstream);
        Relay relay = new Relay(client, upstream, ended::complete);
        relay.sendAhead(Future.succeededFuture(), Buffer.buffer());
        relay.start();
      }).onFailure(err -> client.close());
    });
    return server.listen().await(10, TimeUnit.SECONDS).actualPort();
  }

  private static void prepare(NetSocket socket) {
    assertThat(DirectWrites.apply(socket)).isFalse();
    ZeroCopy.hold(socket);
    assertThat(HalfClose.enable(socket)).isTrue();
  }
}
