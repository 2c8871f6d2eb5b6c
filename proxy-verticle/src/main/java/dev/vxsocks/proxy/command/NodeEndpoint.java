package dev.vxsocks.proxy.command;

import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.PortRange;
import io.vertx.core.Future;
import io.vertx.core.net.NetSocket;

import java.net.InetAddress;
import java.util.function.IntFunction;

/**
 * Where BIND and UDP ASSOCIATE open their sockets, and which address their replies advertise: the node's own,
 * never a load balancer's (README, "Behind a TCP load balancer").
 */
final class NodeEndpoint {

  private static final int PORT_ATTEMPTS = 32;

  private NodeEndpoint() {
  }

  /** The configured host, or else the address the client's control connection arrived on. */
  static String bindHost(String configured, NetSocket control) {
    return configured != null ? configured : control.localAddress().hostAddress();
  }

  /**
   * The configured advertised address, or else the bound one, or, for a wildcard bind, the address the client's
   * control connection arrived on.
   */
  static InetAddress advertised(String configured, String bindHost, NetSocket control) {
    if (configured != null) {
      return IpLiterals.parse(configured);
    }
    InetAddress bound = IpLiterals.parse(bindHost);
    return bound.isAnyLocalAddress() ? IpLiterals.parse(control.localAddress().hostAddress()) : bound;
  }

  /**
   * Opens a socket with {@code listenOn(port)}: on the OS's choice for a range of 0, else on a port {@code ports}
   * hands out, trying another one when the OS refuses it (another program has it), a bounded number of times. On
   * success the port stays held: the caller gives it back when the socket closes. Fails with
   * {@link NoFreePortException} when no port could be had.
   */
  static <T> Future<T> listen(PortRange range, String setting, PortAllocator ports, IntFunction<Future<T>> listenOn) {
    if (range.low() == 0 && range.high() == 0) {
      return listenOn.apply(0);
    }
    return listenFrom(range, setting, ports, listenOn, 0);
  }

  private static <T> Future<T> listenFrom(PortRange range, String setting, PortAllocator ports,
                                          IntFunction<Future<T>> listenOn, int attempt) {
    int port = ports.take(range);
    if (port < 0) {
      return Future.failedFuture(new NoFreePortException("every port of " + setting + " " + range
          + " is held by another session"));
    }
    int span = range.high() - range.low() + 1;
    return listenOn.apply(port).recover(err -> {
      ports.give(port);
      return attempt + 1 < Math.min(PORT_ATTEMPTS, span)
          ? listenFrom(range, setting, ports, listenOn, attempt + 1)
          : Future.failedFuture(new NoFreePortException("no free port in " + setting + " " + range
              + " (the last one tried: " + err.getMessage() + ")"));
    });
  }
}
