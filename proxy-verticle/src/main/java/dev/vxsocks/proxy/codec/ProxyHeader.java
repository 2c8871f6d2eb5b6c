package dev.vxsocks.proxy.codec;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/**
 * What a PROXY protocol header (HAProxy's doc/proxy-protocol.txt: v1 text §2.1, v2 binary §2.2) says about the
 * connection it starts: {@code source} is the client as the balancer saw it, {@code destination} the address the
 * client connected to. {@code version} is 1 or 2.
 *
 * <p>{@code local} means "use the real connection's addresses", and then both addresses are null. It is set for a v2
 * LOCAL command (the balancer's own health check, §2.2), a v1 {@code UNKNOWN} line (§2.1), and a v2 PROXY command
 * whose family is AF_UNSPEC or AF_UNIX or whose transport is not STREAM: §2.2 lets the receiver fall back to the real
 * endpoints for what it does not support, and a SOCKS5 client is only ever a TCP peer with an IP address.
 *
 * <p>Addresses come from literal bytes or validated literals and are never resolved; {@link #describe()} does not
 * resolve them either.
 */
public record ProxyHeader(int version, boolean local, InetSocketAddress source, InetSocketAddress destination) {

  public ProxyHeader {
    if (version != 1 && version != 2) {
      throw new IllegalArgumentException("PROXY protocol version " + version + " is neither 1 nor 2");
    }
    if (local ? source != null || destination != null : source == null || destination == null) {
      throw new IllegalArgumentException("addresses must be null exactly when the header is local");
    }
    if (!local && (source.isUnresolved() || destination.isUnresolved())) {
      throw new IllegalArgumentException("addresses must be IP addresses, not names");
    }
  }

  /** A header that says "use the connection's own addresses". */
  static ProxyHeader local(int version) {
    return new ProxyHeader(version, true, null, null);
  }

  /**
   * One line for a log: {@code v2 192.0.2.1:56316 -> 198.51.100.7:1080}, {@code v1 [2001:db8:0:0:0:0:0:1]:443 -> ...}
   * (IPv6 in brackets), or {@code v2 local}.
   */
  public String describe() {
    if (local) {
      return "v" + version + " local";
    }
    return "v" + version + " " + literal(source) + " -> " + literal(destination);
  }

  /** getHostAddress, never getHostName (which may ask DNS). */
  private static String literal(InetSocketAddress a) {
    String host = a.getAddress().getHostAddress();
    return (a.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
