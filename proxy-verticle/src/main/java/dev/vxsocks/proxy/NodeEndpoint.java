package dev.vxsocks.proxy;

import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.PortRange;
import io.vertx.core.Future;
import io.vertx.core.net.NetSocket;

import java.net.BindException;
import java.net.InetAddress;
import java.util.concurrent.ThreadLocalRandom;
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
   * Opens a socket with {@code listenOn(port)} on a port of {@code range}: the OS's choice for 0, else random ports of
   * the range until one is free (a bounded number of tries).
   */
  static <T> Future<T> listen(PortRange range, String setting, IntFunction<Future<T>> listenOn) {
    if (range.low() == 0 && range.high() == 0) {
      return listenOn.apply(0);
    }
    return listenFrom(range, setting, listenOn, 0);
  }

  private static <T> Future<T> listenFrom(PortRange range, String setting, IntFunction<Future<T>> listenOn, int attempt) {
    int span = range.high() - range.low() + 1;
    int port = range.low() + ThreadLocalRandom.current().nextInt(span);
    return listenOn.apply(port).recover(err -> attempt + 1 < Math.min(PORT_ATTEMPTS, span * 2)
        ? listenFrom(range, setting, listenOn, attempt + 1)
        : Future.failedFuture(new BindException("no free port in " + setting + " " + range + ": " + err.getMessage())));
  }
}
