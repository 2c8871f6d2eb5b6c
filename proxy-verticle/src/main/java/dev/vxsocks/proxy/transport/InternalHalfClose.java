package dev.vxsocks.proxy.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * {@link HalfClose} on Vert.x's internal API and Netty's channel. {@link #enable} sets
 * {@link ChannelOption#ALLOW_HALF_CLOSURE}, so that Netty keeps the channel open when the peer shuts down its write
 * side, and puts a handler before Vert.x's that turns the resulting {@link ChannelInputShutdownEvent} into an empty
 * buffer, which then travels through Vert.x's queue in order with the data.
 *
 * <p>{@link #shutdownOutput} sends our FIN. Netty's {@code DuplexChannel.shutdownOutput()} builds a
 * {@code ChannelOutputShutdownException} with a full stack trace on every call, for the writes still queued
 * (docs/BENCHMARKS.md: half of the proxy's stack-trace cost per session). The relay never has any then (it passes FIN
 * on only after its last write completed), so when Netty's outbound buffer is empty and the channel is native (epoll,
 * which the node uses), the FIN goes to the socket directly, whose state Netty reads back for
 * {@code isOutputShutdown()}, and a handler at the head of the pipeline then fails every later write at once, as Netty
 * does after its own shutdown: without it Netty would write into the shut socket, get EPIPE and close the whole
 * connection, or, with a write waiting for the socket, never flush again and leave its future pending. Anything still
 * queued, or another transport, takes Netty's way, which fails what is queued.
 *
 * <p>Uses: {@code NetSocketInternal.channelHandlerContext()}; that Vert.x's handler is the pipeline's {@code "handler"}
 * (without it, a socket gets no half-close and one WARNING says so); Netty's channel, pipeline and unix socket.
 * Guarded by {@code VertxInternalsTest} and {@code HalfCloseTest}.
 */
final class InternalHalfClose implements HalfClose.Path {

  static final String MARKER_NAME = "vxsocks-end-marker";
  static final String GUARD_NAME = "vxsocks-output-shut";
  /** Vert.x's own handler in every socket pipeline (NetServerImpl / NetClientImpl). */
  static final String VERTX_HANDLER_NAME = "handler";

  private static final Logger LOG = Logger.getLogger(InternalHalfClose.class.getName());
  private static final AtomicBoolean NO_VERTX_HANDLER_LOGGED = new AtomicBoolean();

  /** Fails when this Vert.x lacks what the methods below call. */
  InternalHalfClose() throws NoSuchMethodException {
    NetSocketInternal.class.getMethod("channelHandlerContext");
  }

  @Override
  public boolean enable(NetSocket socket) {
    Channel channel = channel(socket);
    if (!channel.isActive()) {
      return false;
    }
    ChannelPipeline pipeline = channel.pipeline();
    if (pipeline.get(VERTX_HANDLER_NAME) == null) {
      // Open, but not the pipeline this was written for: leave it as it is (Netty closes it on the peer's FIN).
      if (NO_VERTX_HANDLER_LOGGED.compareAndSet(false, true)) {
        LOG.warning("no TCP half-close: Vert.x " + Internals.vertxVersion() + " has no \"" + VERTX_HANDLER_NAME
            + "\" in its socket pipelines " + pipeline.names() + " (see InternalHalfClose)");
      }
      return true;
    }
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    if (pipeline.get(MARKER_NAME) == null) {
      pipeline.addBefore(VERTX_HANDLER_NAME, MARKER_NAME, EndMarker.INSTANCE);
    }
    return true;
  }

  @Override
  public Future<Void> shutdownOutput(NetSocket socket) {
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
  @ChannelHandler.Sharable
  static final class EndMarker extends ChannelInboundHandlerAdapter {
    static final EndMarker INSTANCE = new EndMarker();

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
  static final class WriteGuard extends ChannelOutboundHandlerAdapter {
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
  static final class OutputShutDown extends ClosedChannelException {
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
