package dev.vxsocks.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

/**
 * Relaying without copying bytes in the JVM. Vert.x's {@code NetSocket.handler} copies every read into a new heap
 * buffer (and Netty copies it back into a direct buffer for the write), which cost a third of the relay's throughput
 * and left it garbage to collect (docs/BENCHMARKS.md). {@link InternalZeroCopy}, on Vert.x's internal
 * {@code NetSocketInternal}, lets the relay take Netty's read buffer as it is ({@link #read}) and hand that same buffer
 * to the other socket's write ({@link #write}); {@link PortableZeroCopy}, used when that API is missing (see
 * {@link Internals}), keeps the same contract on the public data handler, with the copies.
 *
 * <p>A socket must then only ever be read through this class (never a data handler or message handler of its own):
 * <ul>
 *   <li>{@link #copying} for the handshake and the UDP control connection: a few bytes, copied to heap buffers;</li>
 *   <li>{@link #hold} for a socket the relay will take over later (the upstream, the BIND peer);</li>
 *   <li>{@link #read} for the relay itself.</li>
 * </ul>
 *
 * <p>{@code pause()} stops delivery, and what was read meanwhile waits in the connection's queue, in order (the
 * half-close marker of {@link HalfClose} included), for whichever of these handlers is set when the socket is resumed;
 * a resume delivers it at once. Call these on the socket's event loop, before it is read from.
 */
public final class ZeroCopy {

  /** How reads and writes reach the socket: {@link InternalZeroCopy} or {@link PortableZeroCopy}. */
  interface Path {
    void copying(NetSocket socket, Handler<Buffer> handler);

    void read(NetSocket socket, Handler<ByteBuf> handler);

    Future<Void> write(NetSocket socket, ByteBuf data);

    void hold(NetSocket socket);
  }

  static final Path PATH = Internals.ZERO_COPY;

  private ZeroCopy() {
  }

  /** {@code handler} gets what {@code socket} reads as heap buffers; an empty buffer means the peer's FIN. */
  public static void copying(NetSocket socket, Handler<Buffer> handler) {
    PATH.copying(socket, handler);
  }

  /**
   * {@code handler} gets what {@code socket} reads as Netty buffers, and owns them: it must release each one or pass
   * it to {@link #write}. An empty buffer means the peer's FIN ({@link HalfClose}).
   */
  public static void read(NetSocket socket, Handler<ByteBuf> handler) {
    PATH.read(socket, handler);
  }

  /** Writes {@code data}, which this takes over: it is released once written, or when the write fails. */
  public static Future<Void> write(NetSocket socket, ByteBuf data) {
    return PATH.write(socket, data);
  }

  /** Stops reading from {@code socket} until a {@link dev.vxsocks.proxy.relay.Relay} resumes it; what arrives meanwhile waits for the relay. */
  public static void hold(NetSocket socket) {
    PATH.hold(socket);
  }
}
