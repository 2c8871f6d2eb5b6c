package dev.vxsocks.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * Relaying without copying bytes in the JVM; with {@link HalfClose} and {@link DirectWrites}, the only use of Vert.x's
 * internal API ({@link NetSocketInternal}), and for one reason: Vert.x's {@code NetSocket.handler} copies every read
 * into a new heap buffer (and Netty copies it back into a direct buffer for the write), which cost a third of the
 * relay's throughput and left it garbage to collect (docs/BENCHMARKS.md). Here the relay takes Netty's read buffer as
 * it is ({@link #read}) and hands that same buffer to the other socket's write ({@link #write}).
 *
 * <p>A socket must then never use the data handler: buffers left in its queue could not be reached once a message
 * handler is set. Instead:
 * <ul>
 *   <li>{@link #copying} for the handshake and the UDP control connection: a few bytes, copied to heap buffers;</li>
 *   <li>{@link #hold} for a socket the relay will take over later (the upstream, the BIND peer);</li>
 *   <li>{@link #read} for the relay itself.</li>
 * </ul>
 *
 * <p>With a message handler set, {@code pause()} stops reading at the connection, and what was read meanwhile waits in
 * the connection's queue, in order (the half-close marker of {@link HalfClose} included), for whichever handler is
 * set when the socket is resumed; a resume delivers it at once. Call these on the socket's event loop, before it is
 * read from.
 */
public final class ZeroCopy {

  private ZeroCopy() {
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

  /**
   * {@code handler} gets Netty's read buffers as they are, and owns them: it must release each one or pass it to
   * {@link #write}. An empty buffer means the peer's FIN ({@link HalfClose}).
   */
  public static void read(NetSocket socket, Handler<ByteBuf> handler) {
    ((NetSocketInternal) socket).messageHandler(msg -> {
      if (msg instanceof ByteBuf buf) {
        handler.handle(buf);
      } else {
        ReferenceCountUtil.release(msg);
      }
    });
  }

  /** Writes {@code data} as it is; Netty releases it once written, or when the write fails. */
  public static Future<Void> write(NetSocket socket, ByteBuf data) {
    return ((NetSocketInternal) socket).writeMessage(data);
  }

  /** Stops reading from {@code socket} until a {@link dev.vxsocks.proxy.relay.Relay} resumes it; what arrives meanwhile waits for the relay. */
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
