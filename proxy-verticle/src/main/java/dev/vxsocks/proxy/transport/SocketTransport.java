package dev.vxsocks.proxy.transport;

import io.netty.channel.ChannelOption;
import io.vertx.core.transport.Transport;

/**
 * The transport the node's Vert.x runs on: the native one (epoll) when it is available, NIO otherwise. With
 * {@link LeanTransport} (Vert.x's transport SPI and Netty's bootstraps), minus the socket options Vert.x sets on every
 * connection to the values they already have. Vert.x applies TCP_USER_TIMEOUT, TCP_QUICKACK, TCP_CORK, SO_KEEPALIVE,
 * TCP_NODELAY (and SO_REUSEADDR on outgoing connections) to each accepted and each connected socket, whatever their
 * values: a setsockopt(2) call each, eleven per proxied session, all of them no-ops here (Netty itself turns
 * TCP_NODELAY on for every new socket). Only options equal to what a new socket already has are skipped; any option
 * configured to something else is still set. So is SO_REUSEADDR on an outgoing socket that connects without binding
 * first (no local address configured), where it has no effect. A listening socket whose accept fails (no descriptor left) pauses
 * accepting for a moment ({@link AcceptBackoff}). {@link PortableTransport}, used when that SPI has changed (see
 * {@link Internals}), is the same transport as Vert.x gives it, every option set.
 */
public final class SocketTransport {

  /** How the transport is built: {@link LeanTransport} or {@link PortableTransport}. */
  interface Path {
    Transport preferred();
  }

  static final Path PATH = Internals.SOCKET_TRANSPORT;

  private SocketTransport() {
  }

  /** The transport to build the node's Vert.x with. */
  public static Transport preferred() {
    return PATH.preferred();
  }

  /**
   * Failed accepts on the node's listening sockets since start (mostly EMFILE/ENFILE: no descriptor left), each
   * followed by a short pause in accepting ({@link AcceptBackoff}); 0 on the portable path, which cannot see them.
   */
  public static long acceptFailures() {
    return AcceptBackoff.failures();
  }

  /** Epoll when it is available, else null: the only native transport the no-op list below is written for. */
  static Transport epoll() {
    Transport nativeOne = Transport.nativeTransport();
    if (nativeOne == null || !nativeOne.available() || !"epoll".equals(nativeOne.name())) {
      return null;
    }
    return nativeOne;
  }

  /** True when the option, as configured, is what a new Linux TCP socket from Netty has anyway. */
  static boolean isNoOp(ChannelOption<?> option, Object value) {
    // Epoll's options are named "io.netty.channel.epoll.EpollChannelOption#TCP_CORK"; this module does not link
    // against the epoll classes (they are only on the launcher's class path).
    String name = option.name();
    if (named(name, "TCP_NODELAY")) {
      return Boolean.TRUE.equals(value);
    }
    if (named(name, "SO_KEEPALIVE") || named(name, "SO_REUSEADDR") || named(name, "TCP_QUICKACK")
        || named(name, "TCP_CORK")) {
      return Boolean.FALSE.equals(value);
    }
    if (named(name, "TCP_USER_TIMEOUT")) {
      return Integer.valueOf(0).equals(value);
    }
    return false;
  }

  /** {@code name} is {@code shortName}, or ends with {@code #shortName} (without building a string per call). */
  private static boolean named(String name, String shortName) {
    int start = name.length() - shortName.length();
    return start >= 0 && name.startsWith(shortName, start) && (start == 0 || name.charAt(start - 1) == '#');
  }
}
