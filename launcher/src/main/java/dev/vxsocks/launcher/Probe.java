package dev.vxsocks.launcher;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * {@code vxsocks probe}: one SOCKS5 session against any SOCKS5 server, each phase printed with its time (greeting,
 * method, authentication, the reply with its RFC 1928 name, the first byte back), exit code 0 only when the session
 * got through. For a Kubernetes exec probe, and for answering "which reply did that user get?".
 *
 * <p>A client of its own, on plain blocking JDK sockets: it must not share code (or bugs) with the server it checks.
 */
final class Probe {

  /** RFC 1928 §6, by REP value. */
  private static final List<String> REPLIES = List.of("succeeded", "general SOCKS server failure",
      "connection not allowed by ruleset", "network unreachable", "host unreachable", "connection refused",
      "TTL expired", "command not supported", "address type not supported");

  private final PrintStream out;
  private final long start = System.nanoTime();
  private final int timeoutMs;

  private Probe(PrintStream out, int timeoutMs) {
    this.out = out;
    this.timeoutMs = timeoutMs;
  }

  /**
   * {@code probe --proxy HOST:PORT --target HOST:PORT [--user NAME] [--udp] [--send TEXT] [--timeout MS]}, each
   * option as given (null when absent): checked here, so each mistake gets its own one-line message.
   */
  static int run(String proxyText, String targetText, String user, boolean udp, String send, String timeout,
                 PrintStream out, PrintStream err) {
    InetSocketAddress proxy = hostPort(proxyText, "--proxy");
    InetSocketAddress target = hostPort(targetText, "--target");
    int timeoutMs;
    try {
      timeoutMs = timeout == null ? 5000 : Integer.parseInt(timeout);
    } catch (NumberFormatException e) {
      throw new Main.UsageException("--timeout takes milliseconds, got '" + timeout + "'");
    }
    String password = null;
    if (user != null) {
      password = System.getenv("VXSOCKS_PROBE_PASSWORD");
      if (password == null) {
        password = readPassword(user);
      }
    }
    Probe probe = new Probe(out, timeoutMs);
    try {
      return probe.session(proxy, target, user, password, udp, send) ? 0 : 1;
    } catch (IOException e) {
      probe.say("failed", e.getClass().getSimpleName() + ": " + e.getMessage());
      return 1;
    }
  }

  /** The terminal's hidden input, else the first line of standard input (a script or a secret mounted as a file). */
  private static String readPassword(String user) {
    java.io.Console console = System.console();
    if (console != null) {
      char[] p = console.readPassword("password for %s: ", user);
      return p == null ? "" : new String(p);
    }
    try {
      java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line = r.readLine();
      return line == null ? "" : line;
    } catch (IOException e) {
      throw new Main.UsageException("cannot read the password: " + e.getMessage());
    }
  }

  private static InetSocketAddress hostPort(String text, String option) {
    if (text == null) {
      throw new Main.UsageException(option + " HOST:PORT is required");
    }
    int colon = text.lastIndexOf(':');
    try {
      String host = text.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return InetSocketAddress.createUnresolved(host, Integer.parseInt(text.substring(colon + 1)));
    } catch (RuntimeException e) {
      throw new Main.UsageException(option + " takes HOST:PORT, got '" + text + "'");
    }
  }

  private void say(String phase, String what) {
    out.printf(Locale.ROOT, "%8.1f ms  %-9s %s%n", (System.nanoTime() - start) / 1e6, phase, what);
  }

  private boolean session(InetSocketAddress proxy, InetSocketAddress target, String user, String password,
                          boolean udp, String send) throws IOException {
    try (Socket s = new Socket()) {
      s.setSoTimeout(timeoutMs);
      s.connect(new InetSocketAddress(proxy.getHostString(), proxy.getPort()), timeoutMs);
      say("connect", "to the proxy " + proxy.getHostString() + ":" + proxy.getPort());
      OutputStream o = s.getOutputStream();
      DataInputStream in = new DataInputStream(s.getInputStream());
      o.write(user == null ? new byte[] {5, 1, 0} : new byte[] {5, 2, 0, 2});
      byte[] method = new byte[2];
      in.readFully(method);
      int m = method[1] & 0xff;
      say("method", m == 0 ? "0x00 no authentication" : m == 2 ? "0x02 username/password"
          : m == 0xff ? "0xFF no acceptable method" : String.format("0x%02X", m));
      if (m == 0xff || (m != 0 && m != 2) || (m == 2 && user == null)) {
        say("result", "FAILED: the proxy accepts none of the offered methods");
        return false;
      }
      if (m == 2) {
        byte[] u = user.getBytes(StandardCharsets.UTF_8);
        byte[] p = password.getBytes(StandardCharsets.UTF_8);
        byte[] auth = new byte[3 + u.length + p.length];
        auth[0] = 1;
        auth[1] = (byte) u.length;
        System.arraycopy(u, 0, auth, 2, u.length);
        auth[2 + u.length] = (byte) p.length;
        System.arraycopy(p, 0, auth, 3 + u.length, p.length);
        o.write(auth);
        byte[] status = new byte[2];
        in.readFully(status);
        say("auth", status[1] == 0 ? "accepted" : "REFUSED (status " + (status[1] & 0xff) + ")");
        if (status[1] != 0) {
          say("result", "FAILED: authentication refused");
          return false;
        }
      }
      o.write(request(udp ? 3 : 1, udp ? new InetSocketAddress(InetAddress.getByAddress(new byte[4]), 0) : target));
      int[] reply = new int[1];
      InetSocketAddress bound = reply(in, reply);
      String name = reply[0] < REPLIES.size() ? REPLIES.get(reply[0]) : "unassigned";
      say("reply", String.format("0x%02X %s, bound %s:%d", reply[0], name,
          bound.isUnresolved() ? bound.getHostString() : bound.getAddress().getHostAddress(), bound.getPort()));
      if (reply[0] != 0) {
        say("result", "FAILED: " + name);
        return false;
      }
      byte[] payload = (send == null ? "vxsocks-probe" : send).getBytes(StandardCharsets.UTF_8);
      boolean ok = udp ? udpRoundTrip(bound, target, payload) : firstByte(s, send == null ? null : payload);
      say("result", ok ? "OK" : "FAILED");
      return ok;
    }
  }

  /** CONNECT: sends {@code payload} if given and waits for the first byte back (a target that speaks first, else). */
  private boolean firstByte(Socket s, byte[] payload) throws IOException {
    if (payload != null) {
      s.getOutputStream().write(payload);
    }
    InputStream in = s.getInputStream();
    try {
      int b = in.read();
      say("first", b < 0 ? "the target closed without a byte" : String.format("byte 0x%02X", b));
      return payload == null || b >= 0;
    } catch (SocketTimeoutException e) {
      // A target that waits for the client (HTTP, ...) sends nothing unasked: the tunnel is up, which is the point.
      say("first", "no byte within " + timeoutMs + " ms" + (payload == null ? " (nothing sent: give --send)" : ""));
      return payload == null;
    }
  }

  /** UDP ASSOCIATE: one datagram to {@code target} through the relay, and its answer. */
  private boolean udpRoundTrip(InetSocketAddress relay, InetSocketAddress target, byte[] payload) throws IOException {
    try (DatagramSocket d = new DatagramSocket()) {
      d.setSoTimeout(timeoutMs);
      byte[] header = request(0, target);
      // The UDP header is RSV(2) FRAG ATYP ADDR PORT: the request layout with its first three bytes replaced.
      header[0] = 0;
      header[1] = 0;
      header[2] = 0;
      byte[] datagram = new byte[header.length + payload.length];
      System.arraycopy(header, 0, datagram, 0, header.length);
      System.arraycopy(payload, 0, datagram, header.length, payload.length);
      d.send(new DatagramPacket(datagram, datagram.length, relay));
      byte[] buf = new byte[65535];
      DatagramPacket answer = new DatagramPacket(buf, buf.length);
      try {
        d.receive(answer);
      } catch (SocketTimeoutException e) {
        say("first", "no datagram back within " + timeoutMs + " ms");
        return false;
      }
      say("first", "datagram of " + answer.getLength() + " bytes (header included)");
      return answer.getLength() > 3 && buf[2] == 0;
    }
  }

  /** VER CMD RSV ATYP ADDR PORT; a name the proxy resolves, an IP literal as an address. */
  private static byte[] request(int cmd, InetSocketAddress to) {
    byte[] addr;
    int atyp;
    if (to.isUnresolved()) {
      byte[] literal = literal(to.getHostString());
      if (literal != null) {
        addr = literal;
        atyp = literal.length == 4 ? 1 : 4;
      } else {
        byte[] name = to.getHostString().getBytes(StandardCharsets.US_ASCII);
        addr = new byte[1 + name.length];
        addr[0] = (byte) name.length;
        System.arraycopy(name, 0, addr, 1, name.length);
        atyp = 3;
      }
    } else {
      addr = to.getAddress().getAddress();
      atyp = addr.length == 4 ? 1 : 4;
    }
    byte[] r = new byte[4 + addr.length + 2];
    r[0] = 5;
    r[1] = (byte) cmd;
    r[3] = (byte) atyp;
    System.arraycopy(addr, 0, r, 4, addr.length);
    r[r.length - 2] = (byte) (to.getPort() >> 8);
    r[r.length - 1] = (byte) to.getPort();
    return r;
  }

  /** The bytes of an IPv4 or IPv6 literal, or null for a name (never resolved here: the proxy resolves names). */
  private static byte[] literal(String host) {
    if (!host.matches("[0-9.]+") && !host.contains(":")) {
      return null;
    }
    try {
      return InetAddress.getByName(host).getAddress();
    } catch (IOException e) {
      return null;
    }
  }

  private static InetSocketAddress reply(DataInputStream in, int[] code) throws IOException {
    byte[] head = new byte[4];
    in.readFully(head);
    code[0] = head[1] & 0xff;
    byte[] addr = new byte[head[3] == 4 ? 16 : head[3] == 1 ? 4 : 0];
    if (head[3] == 3) {
      addr = new byte[in.readUnsignedByte()];
      in.readFully(addr);
      return InetSocketAddress.createUnresolved(new String(addr, StandardCharsets.US_ASCII), in.readUnsignedShort());
    }
    in.readFully(addr);
    return new InetSocketAddress(InetAddress.getByAddress(addr), in.readUnsignedShort());
  }
}
