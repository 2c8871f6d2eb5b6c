package dev.vxsocks.proxy.transport;

import dev.vxsocks.config.IpLiterals;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * What a listening socket does when {@code accept} fails, mostly for want of descriptors (EMFILE, ENFILE): it stops
 * accepting for {@link #PAUSE_MS} and tries again, so the event loop neither spins on a socket that stays readable
 * nor stops serving the connections it has; it logs the first failure at once, then one line per
 * {@link #LOG_INTERVAL_NANOS} while failures go on, and one when an accept succeeds again.
 *
 * <p>Netty alone already pauses (its {@code ServerBootstrap} acceptor turns auto-read off for one second on any
 * exception from the listening channel), but its pipeline then logs a WARNING with a stack trace for each failure,
 * and the node comes back up to a second after descriptors do. This handler sits before that acceptor and keeps the
 * exception from it. {@link LeanTransport} installs it on every listening channel of the node's Vert.x through the
 * transport SPI's {@code configure(NetServerOptions, boolean, ServerBootstrap)}; on the portable path
 * ({@link PortableTransport}) Netty's own behaviour stands. Guarded by {@code VertxInternalsTest}.
 */
final class AcceptBackoff extends ChannelInboundHandlerAdapter {

  static final long PAUSE_MS = 100;
  static final long LOG_INTERVAL_NANOS = 10_000_000_000L;
  private static final Logger LOG = Logger.getLogger(AcceptBackoff.class.getName());
  private static final AtomicLong FAILURES = new AtomicLong();

  // One instance per listening channel, used on its event loop only.
  /** Failures since the last line that said accepting works again (or since start). */
  private long spellFailures;
  private long spellStartNanos;
  /** Failures not yet in a line, since {@link #unloggedSinceNanos}. */
  private long unlogged;
  private long unloggedSinceNanos;
  private boolean loggedBefore;
  private long lastLineNanos;
  /** A failure came after the last successful accept. */
  private boolean failing;
  private boolean recoveryCheckScheduled;
  private String lastError;

  /** Adds this handler to each listening channel {@code existing} (the bootstrap's handler, or null) goes on. */
  static ChannelHandler around(ChannelHandler existing) {
    return new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (existing != null) {
          ch.pipeline().addLast(existing);
        }
        ch.pipeline().addLast(new AcceptBackoff());
      }
    };
  }

  /** Failed accepts on every listener of this JVM since start. */
  static long failures() {
    return FAILURES.get();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    FAILURES.incrementAndGet();
    long now = System.nanoTime();
    lastError = String.valueOf(cause.getMessage() == null ? cause : cause.getMessage());
    if (spellFailures++ == 0) {
      spellStartNanos = now;
    }
    if (unlogged++ == 0) {
      unloggedSinceNanos = now;
    }
    failing = true;
    if (due(now)) {
      LOG.warning(String.format(Locale.ROOT, "accept failed on %s: %s (%d %s in %.1fs); accepting again after %dms,"
              + " and every %dms until it works; open connections carry on", address(ctx), lastError, unlogged,
          unlogged == 1 ? "failure" : "failures", (now - unloggedSinceNanos) / 1e9, PAUSE_MS, PAUSE_MS));
      logged(now);
    }
    ChannelConfig config = ctx.channel().config();
    if (config.isAutoRead()) {
      config.setAutoRead(false);
      ctx.executor().schedule(() -> config.setAutoRead(true), PAUSE_MS, TimeUnit.MILLISECONDS);
    }
    // Not passed on: Netty's acceptor would pause a whole second more, and the pipeline's tail log each failure.
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (failing) {
      failing = false;
      recovered(ctx);
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * An accept worked after failures. Said at once when the last line is an interval old; otherwise once the interval
   * has passed, unless accepts fail again meanwhile (then the failure lines go on counting).
   */
  private void recovered(ChannelHandlerContext ctx) {
    long now = System.nanoTime();
    if (due(now)) {
      LOG.info(String.format(Locale.ROOT, "accepting again on %s after %d failed accepts over %.1fs (%s)",
          address(ctx), spellFailures, (now - spellStartNanos) / 1e9, lastError));
      spellFailures = 0;
      logged(now);
    } else if (!recoveryCheckScheduled) {
      recoveryCheckScheduled = true;
      ctx.executor().schedule(() -> {
        recoveryCheckScheduled = false;
        if (!failing && spellFailures > 0) {
          recovered(ctx);
        }
      }, LOG_INTERVAL_NANOS - (now - lastLineNanos), TimeUnit.NANOSECONDS);
    }
  }

  private boolean due(long now) {
    return !loggedBefore || now - lastLineNanos >= LOG_INTERVAL_NANOS;
  }

  private void logged(long now) {
    unlogged = 0;
    loggedBefore = true;
    lastLineNanos = now;
  }

  private static String address(ChannelHandlerContext ctx) {
    SocketAddress local = ctx.channel().localAddress();
    return local instanceof InetSocketAddress a && a.getAddress() != null
        ? IpLiterals.hostPort(a.getAddress().getHostAddress(), a.getPort()) : String.valueOf(local);
  }
}
