package dev.vxsocks.proxy.transport;

import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.VertxConnection;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Vert.x's "strict thread mode" write path for the proxy's TCP sockets: writes go straight to the Netty channel
 * instead of through a per-socket queue that any thread may write to. Vert.x 5 creates that queue with every
 * {@code NetSocket}, and its first chunk is a 1,024-slot array hard-coded in Netty (4.7 KiB with the padded queue
 * object): 9.4 of the 14.8 KiB of heap a held session kept (docs/BENCHMARKS.md). Vert.x's HTTP server offers the
 * direct path as an option ({@code setStrictThreadMode}); its TCP server and client do not, so {@link #apply} puts
 * Vert.x's own direct queue in place by reflection, the third and last use of Vert.x internals besides
 * {@link ZeroCopy} and {@link HalfClose}. Vert.x still allocates the queue when it creates the socket; replaced
 * before its first use, it becomes young garbage instead of living as long as the session.
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
 *
 * <p>When a Vert.x version lacks the field or the class, nothing is changed: sockets keep Vert.x's queue (correct,
 * about 9 KiB more per session), one WARNING says so at start-up, and {@code DirectWritesTest} fails on that
 * version so the upgrade is noticed.
 */
public final class DirectWrites {

  /** The write buffer (Netty's high-water mark) of a socket with direct writes; the low mark is half of it. */
  public static final int WRITE_BUFFER_BYTES = 1024 * 1024;

  private static final Logger LOG = Logger.getLogger(DirectWrites.class.getName());
  private static final String QUEUE_FIELD = "outboundMessageQueue";
  private static final String DIRECT_QUEUE = VertxConnection.class.getName() + "$DirectOutboundMessageQueue";
  private static final Field QUEUE;
  private static final Constructor<?> DIRECT;
  private static final AtomicBoolean APPLY_FAILED_LOGGED = new AtomicBoolean();

  static {
    Field field = null;
    Constructor<?> direct = null;
    try {
      field = VertxConnection.class.getDeclaredField(QUEUE_FIELD);
      direct = Class.forName(DIRECT_QUEUE).getDeclaredConstructor(VertxConnection.class);
      field.setAccessible(true);
      direct.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warning("sockets keep Vert.x's multi-producer write queue (about 9 KiB more per session): this Vert.x has no "
          + VertxConnection.class.getSimpleName() + "." + QUEUE_FIELD + " / " + DIRECT_QUEUE + " (" + e + ")");
      field = null;
      direct = null;
    }
    QUEUE = field;
    DIRECT = direct;
  }

  private DirectWrites() {
  }

  /** True when this Vert.x version has the direct write path. */
  public static boolean available() {
    return QUEUE != null;
  }

  /**
   * Gives {@code socket} the direct write path. Call on its event loop, right after it connected and before anything
   * is written to it; afterwards write to it only from that event loop. Returns false (and changes nothing) when the
   * path is not available or the socket is not a Vert.x TCP connection.
   */
  public static boolean apply(NetSocket socket) {
    if (QUEUE == null || !(socket instanceof VertxConnection)) {
      return false;
    }
    try {
      QUEUE.set(socket, DIRECT.newInstance(socket));
    } catch (ReflectiveOperationException | RuntimeException e) {
      // Only reachable if the JVM forbids what the static check allowed; the socket is unchanged. Said once, not
      // once per connection.
      if (APPLY_FAILED_LOGGED.compareAndSet(false, true)) {
        LOG.warning("direct writes failed, sockets keep Vert.x's queue (about 9 KiB more per session): " + e);
      }
      return false;
    }
    socket.setWriteQueueMaxSize(WRITE_BUFFER_BYTES);
    return true;
  }

  /** True when {@code socket} writes directly (for tests). */
  static boolean isDirect(NetSocket socket) {
    try {
      return QUEUE != null && DIRECT.getDeclaringClass().isInstance(QUEUE.get(socket));
    } catch (IllegalAccessException e) {
      return false;
    }
  }
}
