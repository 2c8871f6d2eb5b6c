package dev.vxsocks.proxy.codec;

import io.vertx.core.buffer.Buffer;

import java.net.Inet4Address;
import java.net.InetAddress;

/** The bytes of every message the server sends. */
public final class Socks5Encoder {

  private static final byte[] ZERO_IPV4 = new byte[4];

  private Socks5Encoder() {
  }

  /** VER, METHOD (RFC 1928 §3). */
  public static Buffer methodSelection(AuthMethod method) {
    return Buffer.buffer(2).appendByte((byte) 5).appendByte((byte) method.code());
  }

  /** VER 1, STATUS (RFC 1929 §2): 0 is success, anything else failure. */
  public static Buffer passwordStatus(boolean success) {
    return Buffer.buffer(2).appendByte((byte) 1).appendByte((byte) (success ? 0 : 1));
  }

  /** VER, REP, RSV, ATYP, BND.ADDR, BND.PORT (RFC 1928 §6) with {@code bndAddr} null meaning 0.0.0.0:0. */
  public static Buffer reply(ReplyCode rep, InetAddress bndAddr, int bndPort) {
    byte[] addr = bndAddr == null ? ZERO_IPV4 : bndAddr.getAddress();
    int atyp = bndAddr == null || bndAddr instanceof Inet4Address ? AddressType.IPV4.code() : AddressType.IPV6.code();
    return Buffer.buffer(6 + addr.length)
        .appendByte((byte) 5)
        .appendByte((byte) rep.code())
        .appendByte((byte) 0)
        .appendByte((byte) atyp)
        .appendBytes(addr)
        .appendUnsignedShort(bndAddr == null ? 0 : bndPort);
  }

  /** A failure reply: the address fields carry no meaning, so they are zero. */
  public static Buffer reply(ReplyCode rep) {
    return reply(rep, null, 0);
  }
}
