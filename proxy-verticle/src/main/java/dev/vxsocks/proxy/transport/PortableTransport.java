package dev.vxsocks.proxy.transport;

import io.vertx.core.transport.Transport;

/** {@link SocketTransport} on Vert.x's public API: epoll or NIO as Vert.x gives them, every socket option set. */
final class PortableTransport implements SocketTransport.Path {

  @Override
  public Transport preferred() {
    Transport epoll = SocketTransport.epoll();
    return epoll == null ? Transport.NIO : epoll;
  }
}
