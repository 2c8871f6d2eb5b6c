package dev.vxsocks.testing;

import dev.vxsocks.proxy.transport.SocketTransport;
import io.netty.channel.Channel;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * Vert.x instances on either transport, for tests that run a case on both, and the Netty channel under a socket. The
 * native transport needs netty-transport-native-epoll on the test class path (both modules have it, test scope here).
 */
public final class Transports {

  private Transports() {
  }

  /** A new Vert.x instance: {@code nio} (Vert.x's default transport) or {@code native} (epoll, as Main prefers). */
  public static Vertx vertx(String transport) {
    switch (transport) {
      case "nio": return Vertx.vertx();
      case "native": return nativeVertx();
      default: throw new IllegalArgumentException(transport);
    }
  }

  /** A Vert.x instance on the native transport (epoll), as {@code Main} runs it; fails if epoll is unavailable. */
  public static Vertx nativeVertx() {
    Vertx vertx = Vertx.builder().withTransport(SocketTransport.preferred()).build();
    if (!vertx.isNativeTransportEnabled()) {
      Throwable cause = vertx.unavailableNativeTransportCause();
      vertx.close();
      throw new AssertionError("the native transport (epoll) is not available: " + cause, cause);
    }
    return vertx;
  }

  /** The Netty channel under a Vert.x TCP socket, to read back what the kernel and Netty hold for it. */
  public static Channel channel(NetSocket socket) {
    return ((NetSocketInternal) socket).channelHandlerContext().channel();
  }
}
