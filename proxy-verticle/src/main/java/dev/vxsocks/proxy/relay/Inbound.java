package dev.vxsocks.proxy.relay;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * How the proxy reads from its sockets. Vert.x's {@code NetSocket.handler} copies every read into a new heap buffer
 * and keeps it in the socket's own inbound queue; the relay instead takes Netty's buffers as they are
 * ({@link NetSocketInternal#messageHandler}) and writes them on unchanged, so relayed bytes are never copied in the
 * JVM. A socket must therefore never use the data handler: buffers left in that queue could not be reached once a
 * message handler is set. Instead:
 *
 * <ul>
 *   <li>{@link #copying} for the handshake and the UDP control connection: a few bytes, copied to heap buffers;</li>
 *   <li>{@link #hold} for a socket the relay will take over later (the upstream, the BIND peer);</li>
 *   <li>{@link Relay#start} for the relay itself.</li>
 * </ul>
 *
 * <p>With a message handler set, {@code pause()} stops reading at the connection, and what was read meanwhile waits in
 * the connection's queue, in order (the half-close marker of {@link HalfClose} included), for whichever handler is
 * set when the socket is resumed. Call these on the socket's event loop, before it is read from.
 */
public final class Inbound {

  private Inbound() {
  }

  /** {@code handler} gets what {@code socket} reads as heap buffers; an empty buffer means the peer's FIN. */
  public static void copying(NetSocket socket, Handler<Buffer> handler) {
    ((NetSocketInternal) socket).messageHandler(msg -> {
      if (!(msg instanceof ByteBuf buf)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      byte[] bytes;
      try {
        bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
      } finally {
        buf.release();
      }
      handler.handle(Buffer.buffer(bytes));
    });
  }

  /** Stops reading from {@code socket} until a {@link Relay} resumes it; what arrives meanwhile waits for the relay. */
  public static void hold(NetSocket socket) {
    ((NetSocketInternal) socket).messageHandler(msg -> {
      // Not reached: a paused connection queues what it reads. Should it happen, dropping silently would lose data.
      ReferenceCountUtil.release(msg);
      socket.close();
      throw new IllegalStateException("a held socket delivered data before its relay started; closed it");
    });
    socket.pause();
  }
}
