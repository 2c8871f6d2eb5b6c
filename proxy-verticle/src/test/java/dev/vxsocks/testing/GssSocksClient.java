package dev.vxsocks.testing;

import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSException;
import org.ietf.jgss.GSSManager;
import org.ietf.jgss.GSSName;
import org.ietf.jgss.MessageProp;
import org.ietf.jgss.Oid;

import javax.security.auth.Subject;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;

/**
 * A SOCKS5 client with GSS-API authentication (RFC 1961) on the JDK's Kerberos, written for the tests from the RFC:
 * the method offer, context establishment, the protection-level message (wrapped, or NEC style), and, at a level,
 * every byte of the request, the reply and the stream in MTYP 3 messages. Blocking, one thread per direction at most.
 */
public final class GssSocksClient implements AutoCloseable {

  public static final int MTYP_AUTH = 1;
  public static final int MTYP_LEVEL = 2;
  public static final int MTYP_DATA = 3;
  /** What a message we send carries at most (the JDK's Kerberos keeps the token under 65,535 bytes). */
  public static final int CHUNK = 16 * 1024;

  public final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final Subject subject;
  private GSSContext context;
  private int level;
  /** Plaintext unwrapped but not yet read. */
  private byte[] pending = new byte[0];
  private int pendingOffset;

  /** Connects to the proxy on 127.0.0.1:{@code port} as {@code subject} (from {@link TestKdc#login}). */
  public GssSocksClient(int port, Subject subject) throws IOException {
    this.subject = subject;
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(15_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** Offers GSS-API only; returns the method the proxy chose. */
  public int greet() throws IOException {
    send(new byte[] {5, 1, 1});
    byte[] answer = in.readNBytes(2);
    if (answer.length < 2) {
      throw new EOFException("closed after the greeting");
    }
    return answer[1] & 0xFF;
  }

  /**
   * Establishes a context with {@code service} (mutual authentication, confidentiality and integrity requested).
   * Returns normally when established; throws {@link Refused} when the proxy answers {@code 01 FF}.
   */
  public void establish(String service) throws IOException, GSSException {
    context = as(() -> {
      GSSManager manager = GSSManager.getInstance();
      Oid krb5 = new Oid("1.2.840.113554.1.2.2");
      GSSName name = manager.createName(service, new Oid("1.2.840.113554.1.2.2.1"));
      GSSContext c = manager.createContext(name, krb5, null, GSSContext.DEFAULT_LIFETIME);
      c.requestMutualAuth(true);
      c.requestConf(true);
      c.requestInteg(true);
      c.requestSequenceDet(true);
      c.requestReplayDet(true);
      return c;
    });
    byte[] token = new byte[0];
    for (int round = 0; round < 10 && !context.isEstablished(); round++) {
      byte[] input = token;
      byte[] output = as(() -> context.initSecContext(input, 0, input.length));
      if (output != null && output.length > 0) {
        send(message(MTYP_AUTH, output));
      }
      if (context.isEstablished()) {
        return;
      }
      token = readMessage(MTYP_AUTH);
    }
    if (!context.isEstablished()) {
      throw new IOException("no context after 10 rounds");
    }
  }

  /** Sends the protection level {@code requested}, wrapped (RFC) or as one bare octet (NEC); returns the answer. */
  public int negotiate(int requested, boolean nec) throws IOException, GSSException {
    byte[] octet = {(byte) requested};
    send(message(MTYP_LEVEL, nec ? octet : context.wrap(octet, 0, 1, new MessageProp(0, false))));
    byte[] answer = readMessage(MTYP_LEVEL);
    if (!nec) {
      MessageProp prop = new MessageProp(0, false);
      answer = context.unwrap(answer, 0, answer.length, prop);
    }
    if (answer.length != 1) {
      throw new IOException("protection level answer of " + answer.length + " bytes");
    }
    level = answer[0] & 0xFF;
    return level;
  }

  /** Sends SOCKS bytes (the request, then the stream): wrapped at a level, as they are without. */
  public void write(byte[] data, int offset, int length) throws IOException, GSSException {
    if (level == 0) {
      out.write(data, offset, length);
      out.flush();
      return;
    }
    for (int o = offset; o < offset + length; o += CHUNK) {
      int n = Math.min(CHUNK, offset + length - o);
      byte[] token = context.wrap(data, o, n, new MessageProp(0, level != 1));
      out.write(message(MTYP_DATA, token));
    }
    out.flush();
  }

  public void write(byte[] data) throws IOException, GSSException {
    write(data, 0, data.length);
  }

  /**
   * Reads up to {@code max} bytes of SOCKS data (unwrapped at a level); -1 at the end of the stream. At levels 1
   * and 2 a message of the wrong kind fails: integrity-only at 2, or encrypted at 1.
   */
  public int read(byte[] buffer, int offset, int max) throws IOException, GSSException {
    if (level == 0) {
      return in.read(buffer, offset, max);
    }
    while (pendingOffset == pending.length) {
      int b = in.read();
      if (b < 0) {
        return -1;
      }
      int mtyp = in.readUnsignedByte();
      if (b != 1 || mtyp != MTYP_DATA) {
        throw new IOException("expected 01 03, got " + b + " " + mtyp);
      }
      byte[] token = new byte[in.readUnsignedShort()];
      in.readFully(token);
      MessageProp prop = new MessageProp(0, false);
      pending = context.unwrap(token, 0, token.length, prop);
      pendingOffset = 0;
      if (level == 2 && !prop.getPrivacy()) {
        throw new IOException("a message without confidentiality at level 2");
      }
      if (level == 1 && prop.getPrivacy()) {
        throw new IOException("an encrypted message at level 1 (RFC 1961 §5: conf_req FALSE)");
      }
    }
    int n = Math.min(max, pending.length - pendingOffset);
    System.arraycopy(pending, pendingOffset, buffer, offset, n);
    pendingOffset += n;
    return n;
  }

  /** Reads exactly {@code n} bytes of SOCKS data. */
  public byte[] readExactly(int n) throws IOException, GSSException {
    byte[] b = new byte[n];
    int got = 0;
    while (got < n) {
      int r = read(b, got, n - got);
      if (r < 0) {
        throw new EOFException("after " + got + " of " + n + " bytes");
      }
      got += r;
    }
    return b;
  }

  /** The reply to a request (IPv4 BND.ADDR expected: 10 bytes). */
  public byte[] readReply() throws IOException, GSSException {
    return readExactly(10);
  }

  /** Everything until the end of the stream. */
  public byte[] readToEnd() throws IOException, GSSException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] b = new byte[64 * 1024];
    for (int r; (r = read(b, 0, b.length)) >= 0; ) {
      all.write(b, 0, r);
    }
    return all.toByteArray();
  }

  /** Raw bytes, as they are. */
  public void send(byte[] raw) throws IOException {
    out.write(raw);
    out.flush();
  }

  /** Raw bytes from the proxy, exactly {@code n} (fewer at its close). */
  public byte[] receive(int n) throws IOException {
    return in.readNBytes(n);
  }

  /** The established context. */
  public GSSContext context() {
    return context;
  }

  public static byte[] message(int mtyp, byte[] token) {
    byte[] m = new byte[4 + token.length];
    m[0] = 1;
    m[1] = (byte) mtyp;
    m[2] = (byte) (token.length >> 8);
    m[3] = (byte) token.length;
    System.arraycopy(token, 0, m, 4, token.length);
    return m;
  }

  private byte[] readMessage(int expected) throws IOException {
    int ver = in.read();
    if (ver < 0) {
      throw new EOFException("closed while waiting for MTYP " + expected);
    }
    int mtyp = in.readUnsignedByte();
    if (ver == 1 && mtyp == 0xFF) {
      throw new Refused();
    }
    if (ver != 1 || mtyp != expected) {
      throw new IOException("expected 01 0" + expected + ", got " + ver + " " + mtyp);
    }
    byte[] token = new byte[in.readUnsignedShort()];
    in.readFully(token);
    return token;
  }

  private <T> T as(PrivilegedExceptionAction<T> action) throws GSSException {
    try {
      return Subject.doAs(subject, action);
    } catch (PrivilegedActionException e) {
      if (e.getException() instanceof GSSException g) {
        throw g;
      }
      throw new IllegalStateException(e.getException());
    }
  }

  /** The proxy answered {@code 01 FF}. */
  public static final class Refused extends IOException {
    public Refused() {
      super("the proxy refused: 01 FF");
    }
  }

  @Override
  public void close() throws IOException {
    try {
      if (context != null) {
        context.dispose();
      }
    } catch (GSSException ignored) {
      // nothing to free
    }
    socket.close();
  }
}
