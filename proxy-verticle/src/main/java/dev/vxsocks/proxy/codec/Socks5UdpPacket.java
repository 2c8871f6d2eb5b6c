package dev.vxsocks.proxy.codec;

import io.vertx.core.buffer.Buffer;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

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
    int addrLen;
    if (atyp.equals(AddressType.IPV4)) {
      addrLen = 4;
    } else if (atyp.equals(AddressType.IPV6)) {
      addrLen = 16;
    } else if (atyp.equals(AddressType.DOMAIN)) {
      if (len < 5) {
        return new Decoded(null, "truncated header");
      }
      addrLen = datagram.getUnsignedByte(4);
      addrStart = 5;
      if (addrLen == 0) {
        return new Decoded(null, "empty domain");
      }
    } else {
      return new Decoded(null, "unknown ATYP " + atyp);
    }
    int portAt = addrStart + addrLen;
    if (len < portAt + 2) {
      return new Decoded(null, "truncated header");
    }
    String addr;
    if (atyp.equals(AddressType.DOMAIN)) {
      addr = datagram.getString(addrStart, portAt, StandardCharsets.ISO_8859_1.name());
    } else {
      try {
        addr = InetAddress.getByAddress(datagram.getBytes(addrStart, portAt)).getHostAddress();
      } catch (UnknownHostException e) {
        throw new IllegalStateException("a 4 or 16 byte address is always valid", e);
      }
    }
    int port = datagram.getUnsignedShort(portAt);
    return new Decoded(new Socks5UdpPacket(frag, atyp, addr, port, datagram.slice(portAt + 2, len)), null);
  }

  /** The header the relay puts in front of a datagram from {@code source} on its way back to the client. */
  public static Buffer encode(InetAddress source, int sourcePort, Buffer data) {
    byte[] addr = source.getAddress();
    return Buffer.buffer(6 + addr.length + data.length())
        .appendUnsignedShort(0)
        .appendByte((byte) 0)
        .appendByte((byte) (addr.length == 4 ? AddressType.IPV4.code() : AddressType.IPV6.code()))
        .appendBytes(addr)
        .appendUnsignedShort(sourcePort)
        .appendBuffer(data);
  }
}
