package dev.vxsocks.config;

import java.net.InetAddress;
import java.util.List;

/** An address block such as {@code 127.0.0.0/8} or {@code ::1/128}; a bare address is a block of one. */
public final class Cidr {

  private final byte[] network;
  private final int prefix;
  private final String text;

  private Cidr(byte[] network, int prefix, String text) {
    this.network = network;
    this.prefix = prefix;
    this.text = text;
  }

  /** Parses {@code text}, naming {@code key} in the error when it is not an address block. */
  public static Cidr parse(String key, String text) {
    int slash = text.indexOf('/');
    String addr = slash < 0 ? text : text.substring(0, slash);
    InetAddress ip = IpLiterals.parse(addr);
    if (ip == null) {
      throw new ConfigException(key, "'" + text + "' is not an IP address or CIDR block");
    }
    byte[] bytes = ip.getAddress();
    int max = bytes.length * 8;
    // Java turns an IPv4-mapped IPv6 literal (::ffff:10.0.0.0) into an IPv4 address; its prefix counts 96 bits more.
    boolean mapped = bytes.length == 4 && addr.indexOf(':') >= 0;
    int prefix = max;
    if (slash >= 0) {
      String p = text.substring(slash + 1);
      int written = mapped ? 128 : max;
      if (!p.matches("\\d{1,3}") || Integer.parseInt(p) > written || (mapped && Integer.parseInt(p) < 96)) {
        throw new ConfigException(key, "'" + text + "' has a prefix length outside " + (mapped ? "96" : "0") + ".." + written);
      }
      prefix = Integer.parseInt(p) - (mapped ? 96 : 0);
    }
    for (int bit = prefix; bit < max; bit++) {
      bytes[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    return new Cidr(bytes, prefix, text);
  }

  /** True when this block holds {@code address}. An IPv4 block never holds an IPv6 address and vice versa. */
  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    if (a.length != network.length) {
      return false;
    }
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != network[i]) {
        return false;
      }
    }
    int rest = prefix % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (a[full] & mask) == (network[full] & mask);
  }

  /** True when one of {@code blocks} holds {@code address}. */
  public static boolean anyContains(List<Cidr> blocks, InetAddress address) {
    for (Cidr c : blocks) {
      if (c.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** A block that covers every address of its family ({@code 0.0.0.0/0}, {@code ::/0}). */
  public boolean isEverything() {
    return prefix == 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr && ((Cidr) o).prefix == prefix && java.util.Arrays.equals(((Cidr) o).network, network);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(network) * 31 + prefix;
  }

  @Override
  public String toString() {
    return text;
  }
}
