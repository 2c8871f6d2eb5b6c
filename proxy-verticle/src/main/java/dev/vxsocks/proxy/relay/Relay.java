package dev.vxsocks.proxy.relay;

import dev.vxsocks.proxy.transport.HalfClose;
import dev.vxsocks.proxy.transport.ZeroCopy;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

import java.util.function.Consumer;

/**
 * Copies bytes both ways between the client and the upstream connection: the Pump pattern (when the destination's
 * write queue is full, pause the source; resume it on drain) plus TCP half-close, which Vert.x's {@code pipeTo}
 * cannot do. When one side finishes sending (FIN, seen as an empty buffer, see {@link HalfClose}), its last write is
 * awaited and FIN is passed on to the other side; the relay ends when both directions have finished, or at once when
 * either connection fails or closes.
 *
 * <p>Bytes are relayed as the Netty buffers they were read into, without a copy in the JVM (see {@link ZeroCopy}): each
 * read buffer is handed to the other socket's write and released by Netty once written.
 *
 * <p>Runs entirely on the session's event loop: both sockets belong to the same context.
 */
public final class Relay {

  /**
   * What one direction does to its bytes when they are not relayed as they are: GSS-API per-message protection
   * (RFC 1961 §5) unwraps the client's messages and wraps the upstream's bytes. Runs on the event loop.
   */
  public interface Filter {
    /**
     * Turns {@code in}, which this takes over (and releases), into the bytes for the other side, each passed to
     * {@code out}, which takes them over; returns how many bytes of user data {@code in} carried. Throws when the
     * bytes cannot be relayed, with why in one line.
     */
    long apply(ByteBuf in, Consumer<ByteBuf> out) throws Exception;

    /** The source sent FIN: null when it ended cleanly, else why not (a message cut short). */
    default String finish() {
      return null;
    }
  }

  /** Told once, when the relay is over and both sockets are closed. */
  public interface Listener {
    void onRelayEnd(String reason);
  }

  private final NetSocket client;
  private final NetSocket upstream;
  private final Listener listener;
  private final Direction up;
  private final Direction down;
  private long lastActivityNanos = System.nanoTime();
  private long halfClosedSinceNanos;
  private boolean ended;

  public Relay(NetSocket client, NetSocket upstream, Listener listener) {
    this(client, upstream, listener, null, null);
  }

  /**
   * A relay whose directions pass their bytes through {@code fromClient} and {@code toClient} (null: as they are,
   * without a copy). The byte counts are then the user data's.
   */
  public Relay(NetSocket client, NetSocket upstream, Listener listener, Filter fromClient, Filter toClient) {
    this.client = client;
    this.upstream = upstream;
    this.listener = listener;
    this.up = new Direction(client, upstream, "client", fromClient);
    this.down = new Direction(upstream, client, "upstream", toClient);
  }

  /**
   * Both sockets must be paused, with {@link HalfClose#enable} applied and no data handler ever set (see
   * {@link ZeroCopy}); the relay takes their input over and resumes them.
   */
  public void start() {
    up.start();
    down.start();
    client.resume();
    upstream.resume();
  }

  public long bytesUp() {
    return up.bytes;
  }

  public long bytesDown() {
    return down.bytes;
  }

  /**
   * Before {@link #start}: the reply already written to the client, and the bytes the client sent behind its request
   * (pipelined payload, possibly none), which this sends upstream and counts. FIN is passed on to either side only
   * after these writes.
   */
  public void sendAhead(Future<Void> reply, Buffer payload) {
    down.lastWrite = reply;
    if (payload.length() > 0) {
      up.bytes += payload.length();
      up.lastWrite = upstream.write(payload);
    }
  }

  public long lastActivityNanos() {
    return lastActivityNanos;
  }

  /** When the first direction finished, or 0 while both are open. */
  public long halfClosedSinceNanos() {
    return halfClosedSinceNanos;
  }

  /** Ends the relay now (timeout, shutdown): both sockets are closed. */
  public void close(String reason) {
    end(reason);
  }

  private void end(String reason) {
    if (ended) {
      return;
    }
    ended = true;
    client.close();
    upstream.close();
    listener.onRelayEnd(reason);
  }

  private void finished() {
    if (up.finished && down.finished) {
      end("completed");
    } else if (halfClosedSinceNanos == 0) {
      halfClosedSinceNanos = System.nanoTime();
    }
  }

  /** One way: {@code src} → {@code dst}. */
  private final class Direction {
    final NetSocket src;
    final NetSocket dst;
    final String name;
    final Filter filter;
    long bytes;
    boolean finished;
    Future<Void> lastWrite = Future.succeededFuture();

    Direction(NetSocket src, NetSocket dst, String name, Filter filter) {
      this.src = src;
      this.dst = dst;
      this.name = name;
      this.filter = filter;
    }

    void start() {
      ZeroCopy.read(src, this::onMessage);
      src.exceptionHandler(err -> end(name + " error: " + err.getMessage()));
      src.closeHandler(v -> end(finished ? name + " closed" : name + " closed before finishing"));
    }

    private void onMessage(ByteBuf data) {
      int length = data.readableBytes();
      if (ended || finished || length == 0) {
        data.release();
        if (length == 0 && !finished) {
          onEnd();
        }
        return;
      }
      lastActivityNanos = System.nanoTime();
      if (filter == null) {
        bytes += length;
        // The buffer now belongs to the write: Netty releases it once written, or when the write fails.
        lastWrite = ZeroCopy.write(dst, data);
      } else {
        try {
          bytes += filter.apply(data, this::write);
        } catch (Exception e) {
          end(name + " sent what cannot be relayed: " + e.getMessage());
          return;
        }
      }
      if (dst.writeQueueFull()) {
        src.pause();
        dst.drainHandler(v -> src.resume());
      }
    }

    private void write(ByteBuf data) {
      lastWrite = ZeroCopy.write(dst, data);
    }

    /** The peer sent FIN: once the last write is done, pass it on (or close, when the other way is done too). */
    private void onEnd() {
      finished = true;
      String cut = filter == null ? null : filter.finish();
      if (cut != null) {
        end(name + " ended " + cut);
        return;
      }
      Direction other = this == up ? down : up;
      lastWrite.onComplete(ar -> {
        if (ended) {
          return;
        }
        if (ar.failed() || other.finished) {
          // Both sides are done (or this one cannot be written any more): closing sends the FIN; a separate
          // shutdown first would only cost a syscall, and fail with ENOTCONN when the peer has already gone.
          finished();
        } else {
          HalfClose.shutdownOutput(dst).onComplete(sd -> finished());
        }
      });
    }
  }
}
