package dev.vxsocks.proxy;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Where connections come from, for the node's fair shares ({@link AcceptGate}): a client address cut to a prefix,
 * {@code /32} (the address itself) for IPv4 and {@code /64} (one site or host, as IPv6 hands them out) for IPv6 by
 * default. An IPv4 address that reaches an IPv6 listener as {@code ::ffff:a.b.c.d} is the IPv4 address.
 */
record Source(long high, long low, int prefix, boolean ipv4) {

  static Source of(InetAddress address, int prefixIpv4, int prefixIpv6) {
    byte[] b = address.getAddress();
    if (b.length == 16 && isMappedIpv4(b)) {
      b = new byte[] {b[12], b[13], b[14], b[15]};
    }
    if (b.length == 4) {
      long v = ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
      return new Source(0, v & mask32(prefixIpv4), prefixIpv4, true);
    }
    long high = 0;
    long low = 0;
    for (int i = 0; i < 8; i++) {
      high = (high << 8) | (b[i] & 0xffL);
      low = (low << 8) | (b[i + 8] & 0xffL);
    }
    long highMask = prefixIpv6 >= 64 ? -1L : (prefixIpv6 == 0 ? 0 : -1L << (64 - prefixIpv6));
    long lowMask = prefixIpv6 <= 64 ? 0 : (prefixIpv6 == 128 ? -1L : -1L << (128 - prefixIpv6));
    return new Source(high & highMask, low & lowMask, prefixIpv6, false);
  }

  private static long mask32(int prefix) {
    return prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
  }

  private static boolean isMappedIpv4(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  /** {@code 192.0.2.7}, {@code 192.0.2.0/24}, {@code 2001:db8:0:0:0:0:0:0/64}: for logs. */
  @Override
  public String toString() {
    byte[] b;
    if (ipv4) {
      b = new byte[] {(byte) (low >>> 24), (byte) (low >>> 16), (byte) (low >>> 8), (byte) low};
    } else {
      b = new byte[16];
      for (int i = 0; i < 8; i++) {
        b[i] = (byte) (high >>> (56 - 8 * i));
        b[i + 8] = (byte) (low >>> (56 - 8 * i));
      }
    }
    String text;
    try {
      text = InetAddress.getByAddress(b).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException("4 or 16 bytes are always an address", e);
    }
    return prefix == (ipv4 ? 32 : 128) ? text : text + "/" + prefix;
  }
}
