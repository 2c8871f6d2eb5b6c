package dev.vxsocks.proxy.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.NetSocket;
import io.vertx.core.internal.net.NetSocketInternal;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * TCP half-close for Vert.x sockets. This, {@link ZeroCopy} and {@link DirectWrites} are the only classes that use
 * Vert.x's internal API; this one because the public API cannot: when a peer shuts down its write side, Netty closes
 * the whole channel unless {@link ChannelOption#ALLOW_HALF_CLOSURE} is set, and Vert.x passes the resulting
 * {@link ChannelInputShutdownEvent} past the socket's paused inbound queue, so it could overtake data still held
 * there.
 *
 * <p>{@link #enable} therefore makes Netty keep the channel open and turns the event into an empty buffer that
 * travels through Vert.x's queue in order with the data: a zero-length buffer from the socket's handler means "the
 * peer will send nothing more". {@link #shutdownOutput} sends our FIN; a write after it fails.
 */
public final class HalfClose {

  private static final String HANDLER_NAME = "vxsocks-end-marker";
  private static final String GUARD_NAME = "vxsocks-output-shut";
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
   * Sends FIN on {@code socket}, keeping its read side open. Call it on the socket's event loop once everything
   * written to the socket has been written (the relay waits for its last write): writes still queued then, and any
   * write after, fail.
   *
   * <p>Netty's {@code DuplexChannel.shutdownOutput()} builds a {@code ChannelOutputShutdownException} with a full stack
   * trace on every call, for the writes still queued, which the relay never has here: it passes FIN on only after its
   * last write completed. So when Netty's outbound buffer is empty and the channel is native (epoll, which the node
   * uses), the FIN goes to the socket directly, whose state Netty reads back for {@code isOutputShutdown()}, and a
   * handler at the head of the pipeline then fails every later write at once, as Netty does after its own shutdown:
   * without it Netty would write into the shut socket, get EPIPE and close the whole connection, or, with a write
   * waiting for the socket, never flush again and leave its future pending. Anything still queued, or another
   * transport, takes Netty's way, which fails what is queued.
   */
  public static Future<Void> shutdownOutput(NetSocket socket) {
    Channel channel = channel(socket);
    if (!(channel instanceof DuplexChannel duplex) || !channel.isActive()) {
      return Future.failedFuture("socket is not an open TCP connection");
    }
    if (duplex.isOutputShutdown()) {
      return Future.succeededFuture();
    }
    if (channel instanceof UnixChannel unix && unix.fd() instanceof Socket fd && channel.eventLoop().inEventLoop()
        && nothingQueued(channel)) {
      try {
        fd.shutdown(false, true);
      } catch (IOException | RuntimeException e) {
        return Future.failedFuture(e);
      }
      channel.pipeline().addFirst(GUARD_NAME, WriteGuard.INSTANCE);
      channel.pipeline().fireUserEventTriggered(ChannelOutputShutdownEvent.INSTANCE);
      return Future.succeededFuture();
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

  /** True when Netty holds no write for the channel, flushed or not (each entry counts its overhead, 96 bytes). */
  private static boolean nothingQueued(Channel channel) {
    ChannelOutboundBuffer queued = channel.unsafe().outboundBuffer();
    return queued != null && queued.isEmpty() && queued.totalPendingWriteBytes() == 0;
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

  /**
   * After a FIN sent past Netty, fails every write as Netty's own {@code shutdownOutput()} would (the message is
   * released; a void promise, which nobody waits on, is left alone as Netty leaves it).
   */
  @ChannelHandler.Sharable
  private static final class WriteGuard extends ChannelOutboundHandlerAdapter {
    static final WriteGuard INSTANCE = new WriteGuard();

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      ReferenceCountUtil.release(msg);
      if (!promise.isVoid()) {
        promise.tryFailure(new OutputShutDown());
      }
    }
  }

  /** A write after our FIN. Without a stack trace: the caller is the future's listener, not this frame. */
  private static final class OutputShutDown extends ClosedChannelException {
    private static final long serialVersionUID = 1L;

    @Override
    public String getMessage() {
      return "the socket's output is shut down (HalfClose.shutdownOutput sent FIN): nothing more can be written";
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
