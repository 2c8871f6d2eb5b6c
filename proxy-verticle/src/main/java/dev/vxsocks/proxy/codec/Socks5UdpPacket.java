package dev.vxsocks.proxy.codec;

import io.vertx.core.buffer.Buffer;

import java.net.InetAddress;

/**
 * A UDP request header and its data (RFC 1928 §7): RSV(2) FRAG ATYP DST.ADDR DST.PORT DATA. {@code data} is a slice of
 * the datagram, not a copy.
 */
public record Socks5UdpPacket(int frag, AddressType dstAddrType, String dstAddr, int dstPort, Buffer data) {

  /** A decoded datagram, or why it cannot be used ({@code problem} is then set and {@code packet} null). */
  public record Decoded(Socks5UdpPacket packet, String problem) {
  }

  /** Decodes a whole datagram; never throws. */
  public static Decoded decode(Buffer datagram) {
    int len = datagram.length();
    if (len < 4) {
      return new Decoded(null, "truncated header");
    }
    if (datagram.getUnsignedShort(0) != 0) {
      return new Decoded(null, "RSV is not zero");
    }
    int frag = datagram.getUnsignedByte(2);
    AddressType atyp = AddressType.valueOf(datagram.getUnsignedByte(3));
    int addrStart = 4;
    int addrLen = Socks5Address.fixedLength(atyp);
    if (addrLen < 0) {
      return new Decoded(null, "unknown ATYP " + atyp);
    }
    if (addrLen == 0) {
      if (len < 5) {
        return new Decoded(null, "truncated header");
      }
      addrLen = datagram.getUnsignedByte(4);
      addrStart = 5;
      if (addrLen == 0) {
        return new Decoded(null, "empty domain");
      }
    }
    int portAt = addrStart + addrLen;
    if (len < portAt + 2) {
      return new Decoded(null, "truncated header");
    }
    String addr = Socks5Address.text(atyp, datagram, addrStart, portAt);
    int port = datagram.getUnsignedShort(portAt);
    return new Decoded(new Socks5UdpPacket(frag, atyp, addr, port, datagram.slice(portAt + 2, len)), null);
  }

  /** The header the relay puts in front of a datagram from {@code source} on its way back to the client. */
  public static Buffer encode(InetAddress source, int sourcePort, Buffer data) {
    Buffer out = Buffer.buffer(3 + Socks5Address.encodedLength(source) + data.length())
        .appendUnsignedShort(0)
        .appendByte((byte) 0);
    return Socks5Address.append(out, source, sourcePort).appendBuffer(data);
  }
}
