package dev.vxsocks.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static dev.vxsocks.testing.Bytes.bytes;
import static dev.vxsocks.testing.Bytes.concat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A SOCKS5 client written byte by byte. Two ways to use it: for exact-reply tests, {@link #send}, {@link #expect},
 * {@link #readReply()} and {@link #expectClosed()} assert as they read; for tests that count outcomes (a refused
 * session is an answer, not a failure), {@link #greet}, {@link #login}, {@link #request} and {@link #reply()} return
 * what the proxy said and throw {@link IOException} when it closed instead.
 */
public final class RawClient implements AutoCloseable {

  public static final int CONNECT = 1;
  public static final int BIND = 2;
  public static final int UDP_ASSOCIATE = 3;

  public final Socket socket;
  private final InputStream in;

  /** Connects to the proxy on 127.0.0.1:{@code proxyPort}, with a 10 s read timeout. */
  public RawClient(int proxyPort) throws IOException {
    this(connected(proxyPort));
  }

  /** A client on a socket the test connected itself (from a chosen source address, with its own timeouts). */
  public RawClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
  }

  private static Socket connected(int proxyPort) throws IOException {
    Socket socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress("127.0.0.1", proxyPort), 5000);
    socket.setSoTimeout(10_000);
    return socket;
  }

  /** CONNECT to an IPv4 address given as four numbers and a port. */
  public static byte[] connectIpv4(int a, int b, int c, int d, int port) {
    return request(CONNECT, a, b, c, d, port);
  }

  /** {@code cmd} (CONNECT, BIND, UDP ASSOCIATE) for an IPv4 address given as four numbers and a port. */
  public static byte[] request(int cmd, int a, int b, int c, int d, int port) {
    return bytes(5, cmd, 0, 1, a, b, c, d, port >> 8, port & 0xff);
  }

  public static byte[] connectDomain(String host, int port) {
    byte[] name = host.getBytes(StandardCharsets.US_ASCII);
    return concat(bytes(5, 1, 0, 3, name.length), name, bytes(port >> 8, port & 0xff));
  }

  /** The RFC 1929 sub-negotiation request. */
  public static byte[] passwordRequest(String user, String password) {
    byte[] u = user.getBytes(StandardCharsets.UTF_8);
    byte[] p = password.getBytes(StandardCharsets.UTF_8);
    return concat(bytes(1, u.length), u, bytes(p.length), p);
  }

  public RawClient send(byte[] data) throws IOException {
    socket.getOutputStream().write(data);
    socket.getOutputStream().flush();
    return this;
  }

  public byte[] read(int n) throws IOException {
    byte[] out = in.readNBytes(n);
    assertThat(out.length).as("bytes before EOF").isEqualTo(n);
    return out;
  }

  public void expect(byte[] expected) throws IOException {
    byte[] got = read(expected.length);
    assertThat(HexFormat.of().formatHex(got)).isEqualTo(HexFormat.of().formatHex(expected));
  }

  /** Reads a whole reply to a request and returns it. */
  public byte[] readReply() throws IOException {
    byte[] head = read(4);
    int addrLen = head[3] == 1 ? 4 : head[3] == 4 ? 16 : -1;
    assertThat(addrLen).as("reply ATYP").isPositive();
    return concat(head, read(addrLen + 2));
  }

  /** The server closes the connection: EOF (or a reset) within the socket timeout, with no more bytes. */
  public void expectClosed() throws IOException {
    try {
      int b = in.read();
      assertThat(b).as("expected EOF, got a byte").isEqualTo(-1);
    } catch (SocketException reset) {
      // a reset is a close too
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the proxy did not close the connection within the timeout", e);
    }
  }

  public byte[] readAll() throws IOException {
    return in.readAllBytes();
  }

  // --- outcomes, not assertions -----------------------------------------------------------------------------------

  /** A reply: its code, and BND.ADDR and BND.PORT. */
  public record Reply(int code, InetAddress address, int port) {
  }

  /** Sends a greeting offering {@code methods}; the method the proxy chose (0xFF: none acceptable). */
  public int greet(int... methods) throws IOException {
    byte[] greeting = new byte[2 + methods.length];
    greeting[0] = 5;
    greeting[1] = (byte) methods.length;
    for (int i = 0; i < methods.length; i++) {
      greeting[2 + i] = (byte) methods[i];
    }
    send(greeting);
    byte[] method = new byte[2];
    new DataInputStream(in).readFully(method);
    if (method[0] != 5) {
      throw new IOException("method selection of version " + method[0]);
    }
    return method[1] & 0xff;
  }

  /** The RFC 1929 sub-negotiation; its status (0: accepted). */
  public int login(String user, String password) throws IOException {
    send(passwordRequest(user, password));
    byte[] status = new byte[2];
    new DataInputStream(in).readFully(status);
    return status[1] & 0xff;
  }

  /** {@code cmd} to 127.0.0.1:{@code port}; the (first) reply. */
  public Reply request(int cmd, int port) throws IOException {
    send(request(cmd, 127, 0, 0, 1, port));
    return reply();
  }

  /** Reads one reply (for BIND, the second one too). */
  public Reply reply() throws IOException {
    DataInputStream data = new DataInputStream(in);
    byte[] head = new byte[4];
    data.readFully(head);
    byte[] addr;
    switch (head[3]) {
      case 1 -> addr = new byte[4];
      case 4 -> addr = new byte[16];
      default -> throw new IOException("reply ATYP " + head[3]);
    }
    data.readFully(addr);
    int port = data.readUnsignedShort();
    return new Reply(head[1] & 0xff, InetAddress.getByAddress(addr), port);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
