package dev.vxsocks.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * {@link ZeroCopy} on Vert.x's internal {@link NetSocketInternal}: a message handler gets Netty's read buffers as they
 * are, and {@code writeMessage} writes a Netty buffer as it is. With a message handler set, {@code pause()} stops
 * reading at the connection and what was read meanwhile waits in the connection's own queue, in order; buffers left in
 * the data handler's queue could not be reached once a message handler is set, hence no data handler, ever.
 *
 * <p>Uses: {@code NetSocketInternal.messageHandler(Handler)} and {@code NetSocketInternal.writeMessage(Object)}, and
 * that every {@code NetSocket} Vert.x creates is a {@code NetSocketInternal}. Guarded by {@code VertxInternalsTest}.
 */
final class InternalZeroCopy implements ZeroCopy.Path {

  /** Fails when this Vert.x lacks what the methods below call. */
  InternalZeroCopy() throws NoSuchMethodException {
    NetSocketInternal.class.getMethod("messageHandler", Handler.class);
    NetSocketInternal.class.getMethod("writeMessage", Object.class);
  }

  @Override
  public void copying(NetSocket socket, Handler<Buffer> handler) {
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

  @Override
  public void read(NetSocket socket, Handler<ByteBuf> handler) {
    ((NetSocketInternal) socket).messageHandler(msg -> {
      if (msg instanceof ByteBuf buf) {
        handler.handle(buf);
      } else {
        ReferenceCountUtil.release(msg);
      }
    });
  }

  @Override
  public Future<Void> write(NetSocket socket, ByteBuf data) {
    // Netty releases the buffer once written, or when the write fails.
    return ((NetSocketInternal) socket).writeMessage(data);
  }

  @Override
  public void hold(NetSocket socket) {
    ((NetSocketInternal) socket).messageHandler(msg -> {
      // Not reached: a paused connection queues what it reads. Should it happen, dropping silently would lose data.
      ReferenceCountUtil.release(msg);
      socket.close();
      throw new IllegalStateException("a held socket delivered data before its relay started; closed it");
    });
    socket.pause();
  }
}
