package dev.vxsocks.proxy.transport;

import io.vertx.core.net.NetSocket;

/**
 * Vert.x's "strict thread mode" write path for the proxy's TCP sockets: writes go straight to the Netty channel
 * instead of through a per-socket queue that any thread may write to. Vert.x 5 creates that queue with every
 * {@code NetSocket}, and its first chunk is a 1,024-slot array hard-coded in Netty (4.7 KiB with the padded queue
 * object): 9.4 of the 14.8 KiB of heap a held session kept (docs/BENCHMARKS.md). Vert.x's HTTP server offers the
 * direct path as an option ({@code setStrictThreadMode}); its TCP server and client do not, so
 * {@link InternalDirectWrites} puts Vert.x's own direct queue in place by reflection. {@link PortableDirectWrites},
 * used when a Vert.x version lacks what that needs (see {@link Internals}), changes nothing: sockets keep Vert.x's
 * queue, correct and about 9 KiB larger per session.
 *
 * <p>The condition is strict thread mode's: every write to the socket happens on its event loop. The proxy writes
 * only from the session's context (socket handlers, timers and event-bus replies all run there; {@code close} is
 * handed to the event loop by Vert.x itself), and Vert.x asserts the thread on every write, which the test suite runs
 * with assertions on.
 *
 * <p>Back-pressure then follows Netty's write buffer: {@code writeQueueFull()} is the channel's writability. Netty's
 * default high-water mark, 64 KiB, paused the relay after nearly every read (single-stream upload 15 % slower in an
 * A/B), so {@link #apply} raises it to {@link #WRITE_BUFFER_BYTES}, what Vert.x's queue let through before (16
 * messages of up to 64 KiB), which measured the same as before.
 */
public final class DirectWrites {

  /** The write buffer (Netty's high-water mark) of a socket with direct writes; the low mark is half of it. */
  public static final int WRITE_BUFFER_BYTES = 1024 * 1024;

  /** How a socket's writes are queued: {@link InternalDirectWrites} or {@link PortableDirectWrites}. */
  interface Path {
    boolean apply(NetSocket socket);

    boolean isDirect(NetSocket socket);
  }

  static final Path PATH = Internals.DIRECT_WRITES;

  private DirectWrites() {
  }

  /**
   * True when this Vert.x version has the direct write path. The first call picks the implementations of all four
   * classes of this package (see {@link Internals}), so calling it at start-up reports a fallback there.
   */
  public static boolean available() {
    return PATH instanceof InternalDirectWrites;
  }

  /**
   * Gives {@code socket} the direct write path. Call on its event loop, right after it connected and before anything
   * is written to it; afterwards write to it only from that event loop. Returns false (and changes nothing) when the
   * path is not available or the socket is not a Vert.x TCP connection.
   */
  public static boolean apply(NetSocket socket) {
    return PATH.apply(socket);
  }

  /** True when {@code socket} writes directly (for tests). */
  static boolean isDirect(NetSocket socket) {
    return PATH.isDirect(socket);
  }
}
