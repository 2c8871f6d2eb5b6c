package dev.vxsocks.proxy;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Node-wide counters shared by every instance of the connection verticle. */
public final class ProxyStats {

  private final AtomicLong ids = new AtomicLong();
  final AtomicInteger pendingHandshakes = new AtomicInteger();
  final AtomicInteger openSessions = new AtomicInteger();
  final AtomicLong totalSessions = new AtomicLong();
  final AtomicLong refusedHandshakes = new AtomicLong();
  final AtomicLong refusedOverTotal = new AtomicLong();
  final AtomicLong refusedOverShare = new AtomicLong();
  final AtomicLong proxyHeaderFailures = new AtomicLong();
  final AtomicLong untrustedProxyHeaders = new AtomicLong();

  /** A session id, unique on this node: short, hexadecimal, increasing. */
  String nextId() {
    return Long.toHexString(ids.incrementAndGet());
  }

  /** Connections between accept and the end of the handshake. */
  public int pendingHandshakes() {
    return pendingHandshakes.get();
  }

  /** Connections open now, in any phase. */
  public int openSessions() {
    return openSessions.get();
  }

  /** Connections accepted since start. */
  public long totalSessions() {
    return totalSessions.get();
  }

  /** Connections closed at once because {@code limits.pending-handshakes} was reached. */
  public long refusedHandshakes() {
    return refusedHandshakes.get();
  }

  /** Connections closed at once because {@code limits.sessions-total} was reached. */
  public long refusedOverTotal() {
    return refusedOverTotal.get();
  }

  /**
   * Connections closed because their source held its share ({@code limits.sessions-per-source},
   * {@code limits.pending-handshakes-per-source}): at accept, or behind a balancer once the PROXY header named it.
   */
  public long refusedOverShare() {
    return refusedOverShare.get();
  }

  /** Connections from a trusted balancer closed for a missing, late or malformed PROXY protocol header. */
  public long proxyHeaderFailures() {
    return proxyHeaderFailures.get();
  }

  /** Direct clients (not in {@code listen.proxy-protocol-from}) closed for sending a PROXY protocol header. */
  public long untrustedProxyHeaders() {
    return untrustedProxyHeaders.get();
  }
}
