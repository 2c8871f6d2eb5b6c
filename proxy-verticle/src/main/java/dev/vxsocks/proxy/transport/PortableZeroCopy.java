package dev.vxsocks.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

/**
 * {@link ZeroCopy} on Vert.x's public API, for a Vert.x without {@link InternalZeroCopy}'s: the data handler, whose
 * heap buffers are copied into unpooled Netty buffers for the relay, and copied out of them again for the write.
 * Same contract otherwise: while paused, what was read waits in the socket's queue, in order, for whichever handler
 * is set when it is resumed.
 */
final class PortableZeroCopy implements ZeroCopy.Path {

  @Override
  public void copying(NetSocket socket, Handler<Buffer> handler) {
    socket.handler(handler);
  }

  @Override
  public void read(NetSocket socket, Handler<ByteBuf> handler) {
    socket.handler(data -> handler.handle(Unpooled.wrappedBuffer(data.getBytes())));
  }

  @Override
  public Future<Void> write(NetSocket socket, ByteBuf data) {
    byte[] bytes;
    try {
      bytes = new byte[data.readableBytes()];
      data.readBytes(bytes);
    } finally {
      data.release();
    }
    return socket.write(Buffer.buffer(bytes));
  }

  @Override
  public void hold(NetSocket socket) {
    socket.handler(data -> {
      // Not reached: a paused socket queues what it reads. Should it happen, dropping silently would lose data.
      socket.close();
      throw new IllegalStateException("a held socket delivered data before its relay started; closed it");
    });
    socket.pause();
  }
}
