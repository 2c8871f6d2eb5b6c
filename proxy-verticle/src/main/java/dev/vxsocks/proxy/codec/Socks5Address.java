package dev.vxsocks.proxy.codec;

import io.vertx.core.buffer.Buffer;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * The address fields of RFC 1928: ATYP, then DST.ADDR / BND.ADDR, then the port. One codec for the request
 * (§4), the reply (§6) and the UDP header (§7), which lay them out the same way.
 */
public final class Socks5Address {

  private static final byte[] ZERO_IPV4 = new byte[4];

  private Socks5Address() {
  }

  /**
   * The length of the address field for {@code type}: 4 or 16 for an IP address; 0 for a domain, whose field starts
   * with a length byte; -1 for a type RFC 1928 does not define.
   */
  public static int fixedLength(AddressType type) {
    if (type.equals(AddressType.IPV4)) {
      return 4;
    }
    if (type.equals(AddressType.IPV6)) {
      return 16;
    }
    return type.equals(AddressType.DOMAIN) ? 0 : -1;
  }

  /**
   * The address field in {@code bytes[from, to)} as text: the dotted or colon form of an IP address, or the name as
   * sent (one character per byte, so a name is never altered by a charset decoder).
   */
  public static String text(AddressType type, Buffer bytes, int from, int to) {
    if (type.equals(AddressType.DOMAIN)) {
      return bytes.getString(from, to, StandardCharsets.ISO_8859_1.name());
    }
    try {
      return InetAddress.getByAddress(bytes.getBytes(from, to)).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException("a 4 or 16 byte address is always valid", e);
    }
  }

  /** Appends ATYP, the address and the port; {@code address} null is 0.0.0.0 port 0 (a failure reply's fields). */
  public static Buffer append(Buffer out, InetAddress address, int port) {
    byte[] bytes = address == null ? ZERO_IPV4 : address.getAddress();
    int atyp = address == null || address instanceof Inet4Address ? AddressType.IPV4.code() : AddressType.IPV6.code();
    return out.appendByte((byte) atyp).appendBytes(bytes).appendUnsignedShort(address == null ? 0 : port);
  }

  /** The bytes {@link #append} writes for {@code address}. */
  public static int encodedLength(InetAddress address) {
    return 1 + (address == null ? 4 : address.getAddress().length) + 2;
  }
}
