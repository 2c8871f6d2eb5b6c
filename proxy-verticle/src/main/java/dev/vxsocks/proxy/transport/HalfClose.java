package dev.vxsocks.proxy.transport;

import io.vertx.core.Future;
import io.vertx.core.net.NetSocket;

/**
 * TCP half-close for Vert.x sockets, which Vert.x's public API does not offer: when a peer shuts down its write side,
 * Netty closes the whole channel unless told otherwise, and Vert.x passes the resulting event past the socket's paused
 * inbound queue, so it could overtake data still held there.
 *
 * <p>{@link InternalHalfClose}, on Vert.x's internal API and Netty's channel, keeps the channel open and turns the
 * peer's FIN into an empty buffer that travels through Vert.x's queue in order with the data: a zero-length buffer
 * from the socket's handler ({@link ZeroCopy}) means "the peer will send nothing more". {@link #shutdownOutput} sends
 * our FIN and keeps reading; a write after it fails.
 *
 * <p>{@link PortableHalfClose}, used when that API is missing (see {@link Internals}), cannot: a peer's FIN then
 * closes the connection (the socket's close handler runs, no empty buffer comes), and {@link #shutdownOutput} closes
 * the socket. The relay thus ends a session as soon as either side finishes sending.
 */
public final class HalfClose {

  /** How FIN is handled: {@link InternalHalfClose} or {@link PortableHalfClose}. */
  interface Path {
    boolean enable(NetSocket socket);

    Future<Void> shutdownOutput(NetSocket socket);
  }

  static final Path PATH = Internals.HALF_CLOSE;

  private HalfClose() {
  }

  /**
   * Call on the socket's event loop before reading from it (in the connect handler, or right after connect).
   * Returns false when the connection is already closed (its peer went away first): nothing will be read from it.
   */
  public static boolean enable(NetSocket socket) {
    return PATH.enable(socket);
  }

  /**
   * Sends FIN on {@code socket}, keeping its read side open (portable: closes it). Call it on the socket's event loop
   * once everything written to the socket has been written (the relay waits for its last write): writes still queued
   * then, and any write after, fail.
   */
  public static Future<Void> shutdownOutput(NetSocket socket) {
    return PATH.shutdownOutput(socket);
  }
}
