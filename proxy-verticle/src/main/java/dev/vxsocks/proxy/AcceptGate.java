package dev.vxsocks.proxy;

import dev.vxsocks.config.ProxyConfig;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's guard at accept, shared by every instance of the connection verticle (README, "Overload"). A connection
 * is taken only while the node holds fewer than {@code limits.sessions-total} connections and fewer than
 * {@code limits.pending-handshakes} in their handshake, and while its <em>source</em> (the client address cut to
 * {@code limits.source-prefix-ipv4} / {@code -ipv6} bits) holds fewer than its share of each
 * ({@code limits.sessions-per-source}, {@code limits.pending-handshakes-per-source}). Otherwise the connection is
 * closed at once, before a byte is read; refusals are counted and summed into one line per interval
 * ({@link AcceptRefusals}), so a flood costs one accept and one close per connection and no log line each.
 *
 * <p>A trusted balancer ({@code listen.proxy-protocol-from}) carries everyone's connections, so no share is applied
 * to it at accept, only the node's totals. Its PROXY header names the client; from then on the client's source holds
 * the connection ({@link Ticket#reassign}), and a client past its share is closed then.
 *
 * <p>Counts are exact across event loops: the node's totals by compare-and-set, each source's by an atomic update of
 * its map entry, which goes when the source's last connection ends.
 */
final class AcceptGate {

  /** Why a connection was refused; {@code key} is the limit's configuration key. */
  enum Refusal {
    SESSIONS_TOTAL("limits.sessions-total"),
    PENDING_HANDSHAKES("limits.pending-handshakes"),
    SESSIONS_PER_SOURCE("limits.sessions-per-source"),
    PENDING_PER_SOURCE("limits.pending-handshakes-per-source");

    final String key;

    Refusal(String key) {
      this.key = key;
    }

    /** The refusal metric's cause: the key without {@code limits.}. */
    String cause() {
      return key.substring("limits.".length());
    }
  }

  /** What the configured limits come to on this node: 0 is off. */
  record Caps(int sessionsTotal, int pendingHandshakes, int sessionsPerSource, int pendingPerSource, int prefixIpv4,
              int prefixIpv6) {
    boolean sharesOn() {
      return sessionsPerSource > 0 || pendingPerSource > 0;
    }

    int cap(Refusal r) {
      return switch (r) {
        case SESSIONS_TOTAL -> sessionsTotal;
        case PENDING_HANDSHAKES -> pendingHandshakes;
        case SESSIONS_PER_SOURCE -> sessionsPerSource;
        case PENDING_PER_SOURCE -> pendingPerSource;
      };
    }
  }

  /** What one source holds. Changed only inside the map's atomic updates. */
  private static final class Share {
    int open;
    int pending;
  }

  private final ProxyStats stats;
  /** Where refusals are counted by cause (the limit's key without {@code limits.}); set once at deployment. */
  private volatile ProxyMetrics metrics = ProxyMetrics.none();
  /** The process's descriptor limit (RLIMIT_NOFILE), or 0 when unknown. */
  private final long descriptorLimit;
  private final ConcurrentHashMap<Source, Share> sources = new ConcurrentHashMap<>();
  private final AcceptRefusals refusals;

  AcceptGate(ProxyStats stats) {
    this(stats, descriptorLimit(), AcceptRefusals.INTERVAL_NANOS);
  }

  AcceptGate(ProxyStats stats, long descriptorLimit, long logIntervalNanos) {
    this.stats = stats;
    this.descriptorLimit = descriptorLimit;
    this.refusals = new AcceptRefusals(logIntervalNanos);
  }

  /**
   * {@code auto} for {@code limits.sessions-total}: half the descriptors left after a reserve (a quarter of them, at
   * most 256) for the node's own files, listeners and cluster connections, since a proxied session holds two (the
   * client's and the upstream). Off when the limit is unknown.
   */
  static int autoSessionsTotal(long descriptorLimit) {
    if (descriptorLimit <= 0) {
      return 0;
    }
    long reserve = Math.min(256, descriptorLimit / 4);
    return (int) Math.max(1, Math.min(10_000_000, (descriptorLimit - reserve) / 2));
  }

  Caps caps(ProxyConfig.Limits l) {
    int total = l.sessionsTotal() == ProxyConfig.Limits.AUTO ? autoSessionsTotal(descriptorLimit) : l.sessionsTotal();
    int pendingPerSource = l.pendingHandshakesPerSource() == ProxyConfig.Limits.AUTO
        ? Math.max(1, l.pendingHandshakes() / 16) : l.pendingHandshakesPerSource();
    int sessionsPerSource = l.sessionsPerSource() == ProxyConfig.Limits.AUTO
        ? (total == 0 ? 0 : Math.max(1, total / 4)) : l.sessionsPerSource();
    return new Caps(total, l.pendingHandshakes(), sessionsPerSource, pendingPerSource, l.sourcePrefixIpv4(),
        l.sourcePrefixIpv6());
  }

  /** One line for the log at start: what the limits come to here. */
  String describe(ProxyConfig.Limits l) {
    Caps c = caps(l);
    String auto = descriptorLimit > 0 ? " (auto, descriptor limit " + descriptorLimit + ")"
        : " (auto: descriptor limit unknown)";
    return "accept: limits.sessions-total " + word(c.sessionsTotal())
        + (l.sessionsTotal() == ProxyConfig.Limits.AUTO ? auto : "")
        + ", pending-handshakes " + c.pendingHandshakes() + "; each source (/" + c.prefixIpv4() + ", /"
        + c.prefixIpv6() + "): sessions " + word(c.sessionsPerSource()) + ", pending handshakes "
        + word(c.pendingPerSource());
  }

  private static String word(int cap) {
    return cap == 0 ? "off" : Integer.toString(cap);
  }

  /**
   * At accept: a ticket for the connection, or null when it must be closed (the refusal is counted and logged).
   * {@code peer} may be null (an address we cannot read: no share applies); {@code trustedBalancer}: no share applies
   * until {@link Ticket#reassign}.
   */
  Ticket admit(InetAddress peer, boolean trustedBalancer, ProxyConfig.Limits limits) {
    Caps caps = caps(limits);
    if (!incrementBelow(stats.openSessions, caps.sessionsTotal())) {
      refuse(Refusal.SESSIONS_TOTAL, caps, source(peer, caps));
      return null;
    }
    if (!incrementBelow(stats.pendingHandshakes, caps.pendingHandshakes())) {
      stats.openSessions.decrementAndGet();
      refuse(Refusal.PENDING_HANDSHAKES, caps, source(peer, caps));
      return null;
    }
    Ticket ticket = new Ticket();
    if (!trustedBalancer && peer != null && caps.sharesOn()) {
      Source source = Source.of(peer, caps.prefixIpv4(), caps.prefixIpv6());
      Refusal r = ticket.take(source, caps);
      if (r != null) {
        ticket.release();
        refuse(r, caps, source);
        return null;
      }
    }
    return ticket;
  }

  void metrics(ProxyMetrics metrics) {
    this.metrics = metrics;
  }

  /** Called once a second: a summary of refusals that is due is logged even when no connection comes to trigger it. */
  void flushLog(long nowNanos) {
    refusals.flush(nowNanos);
  }

  /** Connections held by {@code address}'s source now: {open, pending}; for tests. */
  int[] held(InetAddress address, ProxyConfig.Limits limits) {
    Caps caps = caps(limits);
    int[] out = new int[2];
    sources.computeIfPresent(Source.of(address, caps.prefixIpv4(), caps.prefixIpv6()), (k, s) -> {
      out[0] = s.open;
      out[1] = s.pending;
      return s;
    });
    return out;
  }

  private static Source source(InetAddress address, Caps caps) {
    return address == null ? null : Source.of(address, caps.prefixIpv4(), caps.prefixIpv6());
  }

  /** Counts the refusal and hands it to the log; {@code source} (for the log) may be null. */
  private void refuse(Refusal r, Caps caps, Source source) {
    switch (r) {
      case SESSIONS_TOTAL -> stats.refusedOverTotal.incrementAndGet();
      case PENDING_HANDSHAKES -> stats.refusedHandshakes.incrementAndGet();
      default -> stats.refusedOverShare.incrementAndGet();
    }
    metrics.refused(r.cause());
    refusals.refused(r.key + " (" + caps.cap(r) + ")", source, System.nanoTime());
  }

  /** Adds one to {@code counter} unless it has reached {@code cap} (0: no cap). */
  private static boolean incrementBelow(AtomicInteger counter, int cap) {
    if (cap <= 0) {
      counter.incrementAndGet();
      return true;
    }
    while (true) {
      int n = counter.get();
      if (n >= cap) {
        return false;
      }
      if (counter.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** The process's descriptor limit, from the JDK's Unix MXBean; 0 when the platform does not say. */
  static long descriptorLimit() {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      return Math.max(0, unix.getMaxFileDescriptorCount());
    }
    return 0;
  }

  /**
   * One accepted connection's hold on the node's counts and on its source's share: one pending handshake until
   * {@link #handshakeDone}, one open connection until {@link #release}. Used on the connection's event loop only.
   */
  final class Ticket {
    private Source source;
    private boolean pending = true;
    private boolean released;

    /** Takes one open connection and one pending handshake of {@code s}'s share; the refusal, or null. */
    private Refusal take(Source s, Caps caps) {
      Refusal[] refused = new Refusal[1];
      sources.compute(s, (k, share) -> {
        Share sh = share == null ? new Share() : share;
        if (caps.sessionsPerSource() > 0 && sh.open >= caps.sessionsPerSource()) {
          refused[0] = Refusal.SESSIONS_PER_SOURCE;
        } else if (pending && caps.pendingPerSource() > 0 && sh.pending >= caps.pendingPerSource()) {
          refused[0] = Refusal.PENDING_PER_SOURCE;
        } else {
          sh.open++;
          if (pending) {
            sh.pending++;
          }
        }
        return sh.open == 0 ? null : sh;
      });
      if (refused[0] == null) {
        source = s;
      }
      return refused[0];
    }

    /**
     * The trusted balancer's PROXY header named {@code client}: the client's source takes the connection over. The
     * refusal's description when the source is past its share (the caller closes the connection), else null.
     */
    String reassign(InetAddress client, ProxyConfig.Limits limits) {
      Caps caps = caps(limits);
      if (source != null || released || client == null || !caps.sharesOn()) {
        return null;
      }
      Source s = Source.of(client, caps.prefixIpv4(), caps.prefixIpv6());
      Refusal r = take(s, caps);
      if (r == null) {
        return null;
      }
      refuse(r, caps, s);
      return r.key + " (" + caps.cap(r) + ") reached for " + s;
    }

    /** The handshake is over (relay or association running): the pending counts drop. */
    void handshakeDone() {
      if (!pending) {
        return;
      }
      pending = false;
      stats.pendingHandshakes.decrementAndGet();
      if (source != null) {
        sources.computeIfPresent(source, (k, sh) -> {
          sh.pending--;
          return sh;
        });
      }
    }

    /** The connection has ended: everything it held goes back. Idempotent. */
    void release() {
      if (released) {
        return;
      }
      handshakeDone();
      released = true;
      stats.openSessions.decrementAndGet();
      if (source != null) {
        sources.computeIfPresent(source, (k, sh) -> --sh.open == 0 ? null : sh);
      }
    }
  }
}
