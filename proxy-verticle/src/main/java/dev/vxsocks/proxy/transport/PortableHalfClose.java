package dev.vxsocks.proxy.transport;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

/**
 * {@link HalfClose} on Vert.x's public API, for a Vert.x without {@link InternalHalfClose}'s: no half-close. A peer's
 * FIN closes its connection as a whole (Netty's default), which the relay sees through the socket's close handler
 * rather than as an empty buffer, and {@link #shutdownOutput} closes the socket (its FIN goes out after what was
 * written). The relay thus ends the session when either side finishes sending: what the other side sends after that
 * is lost, and so are bytes the relay still held back for a slow receiver (the close overtakes them).
 */
final class PortableHalfClose implements HalfClose.Path {

  /**
   * True unless the socket is known to be closed. The public API has no "is open"; a write to a closed connection
   * fails at once on its event loop, so an empty one tells (it sends nothing).
   */
  @Override
  public boolean enable(NetSocket socket) {
    return !socket.write(Buffer.buffer()).failed();
  }

  @Override
  public Future<Void> shutdownOutput(NetSocket socket) {
    return socket.close();
  }
}
