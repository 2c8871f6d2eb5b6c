package dev.vxsocks.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/** Plain blocking TCP servers on loopback used as proxy destinations. */
final class Targets implements AutoCloseable {

  private final ServerSocket server;
  private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "test-target");
    t.setDaemon(true);
    return t;
  });

  private Targets(ServerSocket server, Function<byte[], byte[]> answer, boolean echo) {
    this.server = server;
    pool.execute(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          pool.execute(() -> serve(s, answer, echo));
        } catch (IOException e) {
          return;
        }
      }
    });
  }

  /** Echoes every byte as it arrives, and closes when the client finishes. */
  static Targets echo(String host) throws IOException {
    return new Targets(bind(host), null, true);
  }

  /** Reads until the client's FIN, then sends {@code answer(everything read)} and closes: needs half-close. */
  static Targets readToEndThenAnswer(String host, Function<byte[], byte[]> answer) throws IOException {
    return new Targets(bind(host), answer, false);
  }

  /** Answers with the SHA-256 (hex) of everything received before the client's FIN. */
  static Targets digest(String host) throws IOException {
    return readToEndThenAnswer(host, bytes -> sha256(bytes).getBytes());
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static ServerSocket bind(String host) throws IOException {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
    return s;
  }

  int port() {
    return server.getLocalPort();
  }

  private static void serve(Socket s, Function<byte[], byte[]> answer, boolean echo) {
    try (s) {
      s.setSoTimeout(30_000);
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] buf = new byte[16384];
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      int n;
      while ((n = in.read(buf)) > 0) {
        if (echo) {
          out.write(buf, 0, n);
          out.flush();
        } else {
          all.write(buf, 0, n);
        }
      }
      if (!echo) {
        out.write(answer.apply(all.toByteArray()));
        out.flush();
      }
    } catch (IOException ignored) {
      // the client went away: nothing to serve
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    pool.shutdownNow();
  }
}
