package dev.vxsocks.proxy.transport;

import io.netty.channel.Channel;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/** Vert.x instances and channel access for the transport tests, which run on loopback only. */
final class Loopback {

  private Loopback() {
  }

  /** A new Vert.x instance: {@code nio} (Vert.x's default transport) or {@code native} (epoll, as the node runs). */
  static Vertx vertx(String transport) {
    switch (transport) {
      case "nio": return Vertx.vertx();
      case "native": return nativeVertx();
      default: throw new IllegalArgumentException(transport);
    }
  }

  /** A Vert.x instance on the node's transport ({@link SocketTransport#preferred}); fails if epoll is unavailable. */
  static Vertx nativeVertx() {
    Vertx vertx = Vertx.builder().withTransport(SocketTransport.preferred()).build();
    if (!vertx.isNativeTransportEnabled()) {
      Throwable cause = vertx.unavailableNativeTransportCause();
      vertx.close();
      throw new AssertionError("the native transport (epoll) is not available: " + cause, cause);
    }
    return vertx;
  }

  /** The Netty channel under a Vert.x TCP socket, to read back what Netty and the kernel hold for it. */
  static Channel channel(NetSocket socket) {
    return ((NetSocketInternal) socket).channelHandlerContext().channel();
  }
}
