package dev.vxsocks.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** A SOCKS5 client written byte by byte, for exact-reply tests. */
final class RawClient implements AutoCloseable {

  final Socket socket;
  private final InputStream in;

  RawClient(int proxyPort) throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress("127.0.0.1", proxyPort), 5000);
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
  }

  static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** CONNECT to an IPv4 address given as four numbers and a port. */
  static byte[] connectIpv4(int a, int b, int c, int d, int port) {
    return bytes(5, 1, 0, 1, a, b, c, d, port >> 8, port & 0xff);
  }

  static byte[] connectDomain(String host, int port) {
    byte[] name = host.getBytes();
    return concat(bytes(5, 1, 0, 3, name.length), name, bytes(port >> 8, port & 0xff));
  }

  static byte[] passwordRequest(String user, String password) {
    return concat(bytes(1, user.length()), user.getBytes(), bytes(password.length()), password.getBytes());
  }

  RawClient send(byte[] data) throws IOException {
    socket.getOutputStream().write(data);
    socket.getOutputStream().flush();
    return this;
  }

  byte[] read(int n) throws IOException {
    byte[] out = in.readNBytes(n);
    assertThat(out.length).as("bytes before EOF").isEqualTo(n);
    return out;
  }

  void expect(byte[] expected) throws IOException {
    byte[] got = read(expected.length);
    assertThat(HexFormat.of().formatHex(got)).isEqualTo(HexFormat.of().formatHex(expected));
  }

  /** Reads a whole reply to a request and returns it. */
  byte[] readReply() throws IOException {
    byte[] head = read(4);
    int addrLen = head[3] == 1 ? 4 : head[3] == 4 ? 16 : -1;
    assertThat(addrLen).as("reply ATYP").isPositive();
    return concat(head, read(addrLen + 2));
  }

  /** The server closes the connection: EOF (or a reset) within the socket timeout, with no more bytes. */
  void expectClosed() throws IOException {
    try {
      int b = in.read();
      assertThat(b).as("expected EOF, got a byte").isEqualTo(-1);
    } catch (SocketException reset) {
      // a reset is a close too
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the proxy did not close the connection within the timeout", e);
    }
  }

  byte[] readAll() throws IOException {
    return in.readAllBytes();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
