package dev.vxsocks.launcher;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The far end of the end-to-end tests: servers built on the JDK's blocking sockets and its HTTP server, never on
 * Vert.x, so that a bug in how we use Vert.x cannot hide on both ends of a test. Each target listens on the same port
 * on 127.0.0.1 and on [::1], so that a client may reach {@code localhost} by either family.
 */
final class LoopbackTargets {

  static final InetAddress IPV4 = address(new byte[] {127, 0, 0, 1});
  static final InetAddress IPV6 = address(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  /** How the HTTP target names {@link #IPV6} in its answers ({@link InetAddress#getHostAddress()}). */
  static final String IPV6_TEXT = "0:0:0:0:0:0:0:1";
  static final int BIG = 4 * 1024 * 1024;
  private static final int BIND_ATTEMPTS = 20;
  private static final int MAX_CONNECTIONS = 10_000;
  private static final int SOCKET_TIMEOUT_MS = 30_000;

  private LoopbackTargets() {
  }

  /** 4 MiB of seeded random bytes: the same in every run, incompressible. */
  static byte[] bigPayload() {
    byte[] b = new byte[BIG];
    new Random(0x5eed_cafeL).nextBytes(b);
    return b;
  }

  static byte[] sha256(byte[] data) {
    return digest().digest(data);
  }

  static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * What {@link TcpTarget.Mode#ANSWER_AFTER_EOF} sends once the client has finished sending: a line with the count
   * and digest of what it received, then about 70 KB of numbered lines, so that a truncated answer is noticed.
   */
  static byte[] answerAfterEof(long received, byte[] sha) {
    StringBuilder b = new StringBuilder("received " + received + " bytes sha256 " + hex(sha) + "\n");
    for (int i = 0; i < 2000; i++) {
      b.append(String.format("line %04d of the answer sent after EOF%n", i));
    }
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /** A port nobody listens on, on both loopback addresses (bound, then closed). */
  static int closedPort() throws IOException {
    for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      try (ServerSocket v4 = new ServerSocket(0, 1, IPV4)) {
        try (ServerSocket v6 = new ServerSocket(v4.getLocalPort(), 1, IPV6)) {
          return v6.getLocalPort();
        } catch (BindException taken) {
          // the IPv6 side of this port is in use: try another
        }
      }
    }
    throw new IllegalStateException("no port free on both 127.0.0.1 and [::1] after " + BIND_ATTEMPTS + " attempts");
  }

  private static InetAddress address(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ExecutorService daemonPool(String name) {
    return Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  /** A TCP server on 127.0.0.1:port and [::1]:port. */
  static final class TcpTarget implements AutoCloseable {

    enum Mode {
      /** Sends back every byte as it arrives; closes after the client's FIN. */
      ECHO,
      /** Reads until the client's FIN, then answers with {@link #answerAfterEof} and closes. */
      ANSWER_AFTER_EOF,
      /** Reads until the client's FIN, then neither answers nor closes until the target is closed (or 30 s). */
      HOLD_AFTER_EOF
    }

    private final Mode mode;
    /** One line per connection that reached EOF: {@code received N bytes sha256 HEX}. */
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private final List<ServerSocket> listeners = new ArrayList<>();
    private final ExecutorService pool = daemonPool("tcp-target");
    private volatile boolean closed;
    private final CountDownLatch closing = new CountDownLatch(1);

    private TcpTarget(Mode mode) {
      this.mode = mode;
    }

    static TcpTarget start(Mode mode) throws IOException {
      TcpTarget t = new TcpTarget(mode);
      for (int attempt = 0; attempt < BIND_ATTEMPTS && t.listeners.isEmpty(); attempt++) {
        ServerSocket v4 = new ServerSocket(0, 50, IPV4);
        try {
          ServerSocket v6 = new ServerSocket(v4.getLocalPort(), 50, IPV6);
          t.listeners.add(v4);
          t.listeners.add(v6);
        } catch (BindException taken) {
          v4.close();
        }
      }
      if (t.listeners.isEmpty()) {
        throw new IllegalStateException("no port free on both 127.0.0.1 and [::1]");
      }
      for (ServerSocket s : t.listeners) {
        t.pool.execute(() -> t.acceptLoop(s));
      }
      return t;
    }

    int port() {
      return listeners.get(0).getLocalPort();
    }

    /** What the next connection to reach EOF received, waiting at most 20 s; null if none did. */
    String nextReceived() throws InterruptedException {
      return received.poll(20, TimeUnit.SECONDS);
    }

    private void acceptLoop(ServerSocket listener) {
      for (int i = 0; i < MAX_CONNECTIONS && !closed; i++) {
        Socket s;
        try {
          s = listener.accept();
        } catch (IOException e) {
          return; // closed
        }
        pool.execute(() -> serve(s));
      }
    }

    private void serve(Socket s) {
      try (s) {
        s.setSoTimeout(SOCKET_TIMEOUT_MS);
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        byte[] buf = new byte[64 * 1024];
        MessageDigest sha = digest();
        long total = 0;
        // Bounded: each read either returns data, EOF, or throws after SOCKET_TIMEOUT_MS.
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          total += n;
          sha.update(buf, 0, n);
          if (mode == Mode.ECHO) {
            out.write(buf, 0, n);
          }
        }
        byte[] digest = sha.digest();
        received.add("received " + total + " bytes sha256 " + hex(digest));
        if (mode == Mode.ANSWER_AFTER_EOF) {
          out.write(answerAfterEof(total, digest));
        } else if (mode == Mode.HOLD_AFTER_EOF) {
          closing.await(SOCKET_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        out.flush();
      } catch (IOException e) {
        // the client went away; the test on the client side reports it
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() throws Exception {
      closed = true;
      closing.countDown();
      for (ServerSocket s : listeners) {
        s.close();
      }
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The JDK's HTTP server on 127.0.0.1:port and [::1]:port. {@code GET /hello} answers
   * {@code hello via <the address the request arrived on>}; {@code GET /big} sends {@link #bigPayload()};
   * {@code POST /upload} answers {@code received N bytes sha256 HEX}.
   */
  static final class HttpTarget implements AutoCloseable {

    final byte[] big = bigPayload();
    private final List<HttpServer> servers = new ArrayList<>();
    private final ExecutorService pool = daemonPool("http-target");

    private HttpTarget() {
    }

    static HttpTarget start() throws IOException {
      HttpTarget t = new HttpTarget();
      for (int attempt = 0; attempt < BIND_ATTEMPTS && t.servers.isEmpty(); attempt++) {
        HttpServer v4 = t.create(new InetSocketAddress(IPV4, 0));
        try {
          HttpServer v6 = t.create(new InetSocketAddress(IPV6, v4.getAddress().getPort()));
          t.servers.add(v4);
          t.servers.add(v6);
        } catch (BindException taken) {
          v4.stop(0);
        }
      }
      if (t.servers.isEmpty()) {
        throw new IllegalStateException("no port free on both 127.0.0.1 and [::1]");
      }
      t.servers.forEach(HttpServer::start);
      return t;
    }

    int port() {
      return servers.get(0).getAddress().getPort();
    }

    private HttpServer create(InetSocketAddress at) throws IOException {
      HttpServer s = HttpServer.create(at, 50);
      s.setExecutor(pool);
      s.createContext("/hello", ex -> respond(ex, ("hello via " + ex.getLocalAddress().getAddress().getHostAddress() + "\n")
          .getBytes(StandardCharsets.US_ASCII)));
      s.createContext("/big", ex -> respond(ex, big));
      s.createContext("/upload", ex -> {
        MessageDigest sha = digest();
        long total = 0;
        try (InputStream in = ex.getRequestBody()) {
          byte[] buf = new byte[64 * 1024];
          for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
            sha.update(buf, 0, n);
            total += n;
          }
        }
        respond(ex, ("received " + total + " bytes sha256 " + hex(sha.digest()) + "\n").getBytes(StandardCharsets.US_ASCII));
      });
      return s;
    }

    private static void respond(HttpExchange ex, byte[] body) throws IOException {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      } catch (SocketException e) {
        // client gone
      }
    }

    @Override
    public void close() throws Exception {
      servers.forEach(s -> s.stop(0));
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
