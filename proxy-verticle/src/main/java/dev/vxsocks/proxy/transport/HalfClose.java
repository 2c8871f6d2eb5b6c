package dev.vxsocks.proxy.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.NetSocket;
import io.vertx.core.internal.net.NetSocketInternal;
import java.io.IOException;

/**
 * TCP half-close for Vert.x sockets. This, {@link ZeroCopy} and {@link DirectWrites} are the only classes that use
 * Vert.x's internal API; this one because the public API cannot: when a peer shuts down its write side, Netty closes
 * the whole channel unless {@link ChannelOption#ALLOW_HALF_CLOSURE} is set, and Vert.x passes the resulting
 * {@link ChannelInputShutdownEvent} past the socket's paused inbound queue, so it could overtake data still held
 * there.
 *
 * <p>{@link #enable} therefore makes Netty keep the channel open and turns the event into an empty buffer that
 * travels through Vert.x's queue in order with the data: a zero-length buffer from the socket's handler means "the
 * peer will send nothing more". {@link #shutdownOutput} sends our FIN.
 */
public final class HalfClose {

  private static final String HANDLER_NAME = "vxsocks-end-marker";
  /** Vert.x's own handler in every socket pipeline (NetServerImpl / NetClientImpl). */
  private static final String VERTX_HANDLER_NAME = "handler";

  private HalfClose() {
  }

  /**
   * Call on the socket's event loop before reading from it (in the connect handler, or right after connect).
   * Returns false when the connection is already closed (its peer went away first): nothing will be read from it.
   */
  public static boolean enable(NetSocket socket) {
    Channel channel = channel(socket);
    if (!channel.isActive() || channel.pipeline().get(VERTX_HANDLER_NAME) == null) {
      return false;
    }
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    if (channel.pipeline().get(HANDLER_NAME) == null) {
      channel.pipeline().addBefore(VERTX_HANDLER_NAME, HANDLER_NAME, new EndMarker());
    }
    return true;
  }

  /**
   * Sends FIN on {@code socket}, keeping its read side open. Call it only once everything written to the socket has
   * been written (the relay waits for its last write): what is still queued in Netty is not sent after the FIN.
   */
  public static Future<Void> shutdownOutput(NetSocket socket) {
    Channel channel = channel(socket);
    if (!(channel instanceof DuplexChannel duplex) || !channel.isActive()) {
      return Future.failedFuture("socket is not an open TCP connection");
    }
    if (duplex.isOutputShutdown()) {
      return Future.succeededFuture();
    }
    if (channel instanceof UnixChannel unix && unix.fd() instanceof Socket fd) {
      // A native transport (epoll, which the node uses): straight to the socket, whose state Netty reads back for
      // isOutputShutdown(). Netty's shutdownOutput() builds an exception with a full stack trace every time, for
      // writes still queued, which the relay never has here: it passes FIN on only after its last write completed.
      try {
        fd.shutdown(false, true);
        return Future.succeededFuture();
      } catch (IOException | RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    Promise<Void> promise = Promise.promise();
    duplex.shutdownOutput().addListener(f -> {
      if (f.isSuccess()) {
        promise.complete();
      } else {
        promise.fail(f.cause());
      }
    });
    return promise.future();
  }

  private static Channel channel(NetSocket socket) {
    return ((NetSocketInternal) socket).channelHandlerContext().channel();
  }

  /** Turns the input-shutdown event into an empty buffer, in order with the data. */
  private static final class EndMarker extends ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt == ChannelInputShutdownEvent.INSTANCE) {
        ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
        ctx.fireChannelReadComplete();
        return;
      }
      super.userEventTriggered(ctx, evt);
    }
  }
}
