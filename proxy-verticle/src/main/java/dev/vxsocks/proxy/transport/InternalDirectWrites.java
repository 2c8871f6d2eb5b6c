package dev.vxsocks.proxy.transport;

import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.VertxConnection;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * {@link DirectWrites} by reflection on Vert.x's internal {@link VertxConnection}: its {@code outboundMessageQueue}
 * field gets an instance of its own {@code DirectOutboundMessageQueue}, the queue strict thread mode uses. Vert.x still
 * allocates the multi-producer queue when it creates the socket; replaced before its first use, it becomes young
 * garbage instead of living as long as the session.
 *
 * <p>Uses: {@code VertxConnection.outboundMessageQueue}, {@code VertxConnection$DirectOutboundMessageQueue(VertxConnection)},
 * and that every TCP {@code NetSocket} is a {@code VertxConnection}. Guarded by {@code VertxInternalsTest} and
 * {@code DirectWritesTest}.
 */
final class InternalDirectWrites implements DirectWrites.Path {

  private static final Logger LOG = Logger.getLogger(InternalDirectWrites.class.getName());
  private static final String QUEUE_FIELD = "outboundMessageQueue";
  private static final String DIRECT_QUEUE = VertxConnection.class.getName() + "$DirectOutboundMessageQueue";
  private static final AtomicBoolean APPLY_FAILED_LOGGED = new AtomicBoolean();

  // Static, so that the JIT sees constants on the path every session takes.
  private static final Field QUEUE;
  private static final Constructor<?> DIRECT;
  private static final Exception MISSING;

  static {
    Field field = null;
    Constructor<?> direct = null;
    Exception missing = null;
    try {
      field = VertxConnection.class.getDeclaredField(QUEUE_FIELD);
      direct = Class.forName(DIRECT_QUEUE).getDeclaredConstructor(VertxConnection.class);
      field.setAccessible(true);
      direct.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      missing = e;
    }
    QUEUE = field;
    DIRECT = direct;
    MISSING = missing;
  }

  /** Fails when this Vert.x lacks the field or the queue class, or the JVM does not let them be used. */
  InternalDirectWrites() throws Exception {
    if (MISSING != null) {
      throw MISSING;
    }
  }

  @Override
  public boolean apply(NetSocket socket) {
    if (!(socket instanceof VertxConnection)) {
      return false;
    }
    try {
      QUEUE.set(socket, DIRECT.newInstance(socket));
    } catch (ReflectiveOperationException | RuntimeException e) {
      // Only reachable if the JVM forbids what the constructor's check allowed; the socket is unchanged. Said once,
      // not once per connection.
      if (APPLY_FAILED_LOGGED.compareAndSet(false, true)) {
        LOG.warning("direct writes failed, sockets keep Vert.x's queue (about 9 KiB more per session): " + e);
      }
      return false;
    }
    socket.setWriteQueueMaxSize(DirectWrites.WRITE_BUFFER_BYTES);
    return true;
  }

  @Override
  public boolean isDirect(NetSocket socket) {
    try {
      return DIRECT.getDeclaringClass().isInstance(QUEUE.get(socket));
    } catch (IllegalAccessException | IllegalArgumentException e) {
      return false;
    }
  }
}
