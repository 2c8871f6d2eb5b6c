package dev.vxsocks.proxy.codec;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * Test-side encoders for what the client sends (the server code only decodes these), written from RFC 1928 §3, §4, §7
 * and RFC 1929 §2 rather than from the decoders, so that "decode, then encode" checks one against the other.
 */
final class Socks5Wire {

  private Socks5Wire() {
  }

  /** VER 5, NMETHODS, METHODS. */
  static byte[] greeting(Socks5Greeting g) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(5);
    out.write(g.methods().size());
    g.methods().forEach(m -> out.write(m.code()));
    return out.toByteArray();
  }

  /** VER 1, ULEN, UNAME, PLEN, PASSWD, each field the UTF-8 bytes of the decoded text. */
  static byte[] passwordRequest(Socks5PasswordRequest r) {
    byte[] user = r.username().getBytes(StandardCharsets.UTF_8);
    byte[] password = r.password().getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(1);
    out.write(user.length);
    out.writeBytes(user);
    out.write(password.length);
    out.writeBytes(password);
    return out.toByteArray();
  }

  /** VER 5, CMD, RSV, then ATYP, DST.ADDR, DST.PORT. */
  static byte[] commandRequest(Socks5CommandRequest r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(5);
    out.write(r.command().code());
    out.write(r.rsv());
    address(out, r.dstAddrType(), r.dstAddr(), r.dstPort());
    return out.toByteArray();
  }

  /** RSV(2) FRAG, then ATYP, DST.ADDR, DST.PORT, then the data. */
  static byte[] udpDatagram(Socks5UdpPacket p) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(0);
    out.write(p.frag());
    address(out, p.dstAddrType(), p.dstAddr(), p.dstPort());
    out.writeBytes(p.data().getBytes());
    return out.toByteArray();
  }

  /** ATYP, the address in the form {@code type} asks for, and the port. */
  static void address(ByteArrayOutputStream out, AddressType type, String text, int port) {
    out.write(type.code());
    if (type.equals(AddressType.DOMAIN)) {
      // One byte per character: the decoder reads a name as ISO-8859-1.
      byte[] name = text.getBytes(StandardCharsets.ISO_8859_1);
      if (!new String(name, StandardCharsets.ISO_8859_1).equals(text)) {
        throw new AssertionError("name has a character that is not one byte: " + text);
      }
      out.write(name.length);
      out.writeBytes(name);
    } else if (type.equals(AddressType.IPV4)) {
      out.writeBytes(ipv4(text));
    } else if (type.equals(AddressType.IPV6)) {
      out.writeBytes(ipv6(text));
    } else {
      throw new AssertionError("no address of type " + type + " can be decoded");
    }
    out.write(port >> 8);
    out.write(port & 0xFF);
  }

  /** Dotted decimal, parsed here: four parts 0-255. */
  static byte[] ipv4(String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      throw new AssertionError("not a dotted quad: " + text);
    }
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      if (!parts[i].matches("[0-9]{1,3}") || Integer.parseInt(parts[i]) > 255) {
        throw new AssertionError("not a dotted quad: " + text);
      }
      out[i] = (byte) Integer.parseInt(parts[i]);
    }
    return out;
  }

  /**
   * 16 bytes for the text of an ATYP 4 address. Java turns an IPv4-mapped address ({@code ::ffff:a.b.c.d}) into an
   * {@link Inet4Address} and prints it dotted; ATYP 4 with dotted text can only have come from one, so it maps back.
   */
  static byte[] ipv6(String text) {
    if (text.indexOf(':') < 0) {
      byte[] v4 = ipv4(text);
      byte[] out = new byte[16];
      out[10] = (byte) 0xFF;
      out[11] = (byte) 0xFF;
      System.arraycopy(v4, 0, out, 12, 4);
      return out;
    }
    // With a ':' and only hex digits, colons and dots, getByName parses a literal and never asks DNS.
    if (!text.matches("[0-9A-Fa-f:.]+")) {
      throw new AssertionError("not an IPv6 literal: " + text);
    }
    try {
      byte[] b = InetAddress.getByName(text).getAddress();
      if (b.length != 16) {
        throw new AssertionError("IPv6 text " + text + " is not 16 bytes");
      }
      return b;
    } catch (UnknownHostException e) {
      throw new AssertionError("not an IPv6 literal: " + text, e);
    }
  }
}
