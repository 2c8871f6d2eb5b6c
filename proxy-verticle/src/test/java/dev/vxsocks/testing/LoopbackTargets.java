package dev.vxsocks.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
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
import java.util.Arrays;
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
 * The far end of the tests that go through the proxy: servers built on the JDK's blocking sockets and its HTTP server,
 * never on Vert.x, so that a bug in how we use Vert.x cannot hide on both ends of a test. {@link TcpTarget#start} and
 * {@link HttpTarget#start} listen on the same port on 127.0.0.1 and on [::1], so that a client may reach
 * {@code localhost} by either family; {@link TcpTarget#echo(String)} and the other one-address targets listen on the
 * address they are given only. {@link SharedTargets} shares one of each for a whole test run.
 */
public final class LoopbackTargets {

  public static final InetAddress IPV4 = address(new byte[] {127, 0, 0, 1});
  public static final InetAddress IPV6 = address(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  /** How the HTTP target names {@link #IPV6} in its answers ({@link InetAddress#getHostAddress()}). */
  public static final String IPV6_TEXT = "0:0:0:0:0:0:0:1";
  public static final int BIG = 4 * 1024 * 1024;
  private static final int BIND_ATTEMPTS = 20;
  private static final int MAX_CONNECTIONS = 10_000;
  private static final int MAX_DATAGRAMS = 10_000;
  private static final int SOCKET_TIMEOUT_MS = 30_000;

  private LoopbackTargets() {
  }

  /** 4 MiB of seeded random bytes: the same in every run, incompressible. */
  public static byte[] bigPayload() {
    byte[] b = new byte[BIG];
    new Random(0x5eed_cafeL).nextBytes(b);
    return b;
  }

  public static byte[] sha256(byte[] data) {
    return digest().digest(data);
  }

  /** The SHA-256 of {@code data} in lower-case hex. */
  public static String sha256Hex(byte[] data) {
    return hex(sha256(data));
  }

  public static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  public static MessageDigest digest() {
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
  public static byte[] answerAfterEof(long received, byte[] sha) {
    StringBuilder b = new StringBuilder("received " + received + " bytes sha256 " + hex(sha) + "\n");
    for (int i = 0; i < 2000; i++) {
      b.append(String.format("line %04d of the answer sent after EOF%n", i));
    }
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /** A port nobody listens on, on both loopback addresses (bound, then closed). */
  public static int closedPort() throws IOException {
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

  /** A port free on 127.0.0.1 when this returns (bound, then closed), for a process that must be told its port. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, IPV4)) {
      return s.getLocalPort();
    }
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

  /** What a target in {@link TcpTarget.Mode#ANSWER_AFTER_EOF} sends after the client's FIN. */
  @FunctionalInterface
  public interface Answer {
    /** The answer to a connection that sent {@code received} bytes whose SHA-256 is {@code sha256}. */
    byte[] to(long received, byte[] sha256);
  }

  /** A TCP server on 127.0.0.1:port and [::1]:port ({@link #start}), or on one address ({@link #echo(String)}, ...). */
  public static final class TcpTarget implements AutoCloseable {

    public enum Mode {
      /** Sends back every byte as it arrives; closes after the client's FIN. */
      ECHO,
      /** Reads until the client's FIN, then answers (by default with {@link #answerAfterEof}) and closes. */
      ANSWER_AFTER_EOF,
      /** Reads until the client's FIN, then neither answers nor closes until the target is closed (or 30 s). */
      HOLD_AFTER_EOF,
      /** Reads and discards until the client's FIN, then closes without a word. */
      SINK
    }

    private final Mode mode;
    private final Answer answer;
    /** One line per connection that reached EOF: {@code received N bytes sha256 HEX}. */
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private final List<ServerSocket> listeners = new ArrayList<>();
    private final ExecutorService pool = daemonPool("tcp-target");
    private volatile boolean closed;
    private final CountDownLatch closing = new CountDownLatch(1);

    private TcpTarget(Mode mode, Answer answer) {
      this.mode = mode;
      this.answer = answer;
    }

    /** A target in {@code mode} on 127.0.0.1 and [::1], one port for both. */
    public static TcpTarget start(Mode mode) throws IOException {
      TcpTarget t = new TcpTarget(mode, LoopbackTargets::answerAfterEof);
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
      return t.accepting();
    }

    /** {@link Mode#ECHO} on {@code host} only. */
    public static TcpTarget echo(String host) throws IOException {
      return on(host, Mode.ECHO, null);
    }

    /** {@link Mode#ANSWER_AFTER_EOF} on {@code host} only, answering with {@code answer}: needs half-close. */
    public static TcpTarget answerAfterEof(String host, Answer answer) throws IOException {
      return on(host, Mode.ANSWER_AFTER_EOF, answer);
    }

    /** Answers with the SHA-256 (hex) of everything received before the client's FIN, on {@code host} only. */
    public static TcpTarget answerDigest(String host) throws IOException {
      return answerAfterEof(host, (n, sha) -> hex(sha).getBytes(StandardCharsets.US_ASCII));
    }

    private static TcpTarget on(String host, Mode mode, Answer answer) throws IOException {
      TcpTarget t = new TcpTarget(mode, answer);
      ServerSocket s = new ServerSocket();
      s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
      t.listeners.add(s);
      return t.accepting();
    }

    private TcpTarget accepting() {
      for (ServerSocket s : listeners) {
        pool.execute(() -> acceptLoop(s));
      }
      return this;
    }

    public int port() {
      return listeners.get(0).getLocalPort();
    }

    /** What the next connection to reach EOF received, waiting at most 20 s; null if none did. */
    public String nextReceived() throws InterruptedException {
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
          out.write(answer.to(total, digest));
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
  public static final class HttpTarget implements AutoCloseable {

    final byte[] big = bigPayload();
    private final List<HttpServer> servers = new ArrayList<>();
    private final ExecutorService pool = daemonPool("http-target");

    private HttpTarget() {
    }

    public static HttpTarget start() throws IOException {
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

    public int port() {
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

  /**
   * A UDP echo on one address: answers every datagram to its sender, with {@code prefix} in front of the payload;
   * bounded in count, stops when closed.
   */
  public static final class UdpEcho implements AutoCloseable {
    private final DatagramSocket socket;
    private final Thread thread;

    private UdpEcho(DatagramSocket socket, byte[] prefix) {
      this.socket = socket;
      this.thread = new Thread(() -> {
        byte[] buf = new byte[65535];
        for (int i = 0; i < MAX_DATAGRAMS && !socket.isClosed(); i++) {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          try {
            socket.receive(p);
            byte[] answer = Bytes.concat(prefix, Arrays.copyOf(p.getData(), p.getLength()));
            socket.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
          } catch (IOException closed) {
            return;
          }
        }
      }, "udp-echo");
      thread.setDaemon(true);
    }

    /** Sends every datagram back as it came. */
    public static UdpEcho start(String host) throws IOException {
      return start(host, new byte[0]);
    }

    /** Sends every datagram back with {@code prefix} in front of its payload. */
    public static UdpEcho start(String host, byte[] prefix) throws IOException {
      UdpEcho e = new UdpEcho(new DatagramSocket(new InetSocketAddress(InetAddress.getByName(host), 0)), prefix.clone());
      e.thread.start();
      return e;
    }

    public int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws InterruptedException {
      socket.close();
      thread.join(5000);
    }
  }
}
