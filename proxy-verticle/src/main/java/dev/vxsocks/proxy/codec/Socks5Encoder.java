package dev.vxsocks.proxy.codec;

import io.vertx.core.buffer.Buffer;

import java.net.InetAddress;

/** The bytes of every message the server sends. */
public final class Socks5Encoder {

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
    Buffer out = Buffer.buffer(3 + Socks5Address.encodedLength(bndAddr))
        .appendByte((byte) 5)
        .appendByte((byte) rep.code())
        .appendByte((byte) 0);
    return Socks5Address.append(out, bndAddr, bndPort);
  }

  /** A failure reply: the address fields carry no meaning, so they are zero. */
  public static Buffer reply(ReplyCode rep) {
    return reply(rep, null, 0);
  }
}
