package dev.vxsocks.proxy.transport;

import io.vertx.core.net.NetSocket;

/** {@link DirectWrites} on Vert.x's public API: nothing to do, sockets keep Vert.x's write queue. */
final class PortableDirectWrites implements DirectWrites.Path {

  @Override
  public boolean apply(NetSocket socket) {
    return false;
  }

  @Override
  public boolean isDirect(NetSocket socket) {
    return false;
  }
}
