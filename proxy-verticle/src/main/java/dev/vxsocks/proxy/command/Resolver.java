package dev.vxsocks.proxy.command;

import io.vertx.core.Future;

import java.net.InetAddress;
import java.util.List;

/**
 * Turns a destination name into addresses: the DNS seam of the proxy. CONNECT tries the addresses in order; a UDP
 * association uses the first. A name that does not resolve fails with a {@code Socks5Failure} replying 0x04 (host
 * unreachable); a resolver that cannot take more work fails with 0x01 (general failure), which a client may retry.
 */
public interface Resolver {

  /**
   * The addresses of {@code name} (never empty on success). Completes on the caller's Vert.x context. {@code name} is
   * not an IP literal: those never reach the resolver.
   */
  Future<List<InetAddress>> resolve(String name);

  /** Releases the resolver's threads; lookups in flight complete, new ones fail. */
  void close();
}
