package dev.vxsocks.auth;

import io.vertx.core.Future;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * New-session rate limits for one node: one {@link Gcra} state per limited key, both keys decided under one lock
 * (the auth verticle may run as several instances), so the count is exact. Keys whose state has run out (a full
 * bucket again) are dropped once a second: memory holds only the users and addresses let through in about the last
 * second.
 */
public final class InMemorySessionRateLimiter implements SessionRateLimiter {

  private static final Future<Outcome> LET_THROUGH = Future.succeededFuture(Outcome.LET_THROUGH);
  private static final Future<Outcome> PER_USER = Future.succeededFuture(Outcome.PER_USER);
  private static final Future<Outcome> PER_CLIENT_IP = Future.succeededFuture(Outcome.PER_CLIENT_IP);
  private static final long SWEEP_NS = 1_000_000_000L;

  private final LongSupplier clock;
  private final Map<String, Long> tats = new HashMap<>();
  private long nextSweep;

  public InMemorySessionRateLimiter() {
    this(System::nanoTime);
  }

  /** With {@code clock} in nanoseconds (monotonic), for tests. */
  public InMemorySessionRateLimiter(LongSupplier clock) {
    this.clock = clock;
    this.nextSweep = clock.getAsLong() + SWEEP_NS;
  }

  @Override
  public Future<Outcome> take(String user, String clientIp, int perUserPerSecond, int perClientIpPerSecond) {
    String userKey = user != null && perUserPerSecond > 0 ? "u:" + user : null;
    String ipKey = perClientIpPerSecond > 0 ? "ip:" + clientIp : null;
    if (userKey == null && ipKey == null) {
      return LET_THROUGH;
    }
    synchronized (this) {
      long now = clock.getAsLong();
      sweep(now);
      Long userTat = userKey == null ? null : tats.get(userKey);
      Long ipTat = ipKey == null ? null : tats.get(ipKey);
      if (userKey != null && Gcra.wait(userTat, now, perUserPerSecond) > 0) {
        return PER_USER;
      }
      if (ipKey != null && Gcra.wait(ipTat, now, perClientIpPerSecond) > 0) {
        return PER_CLIENT_IP;
      }
      if (userKey != null) {
        tats.put(userKey, Gcra.take(userTat, now, perUserPerSecond));
      }
      if (ipKey != null) {
        tats.put(ipKey, Gcra.take(ipTat, now, perClientIpPerSecond));
      }
      return LET_THROUGH;
    }
  }

  private void sweep(long now) {
    if (now - nextSweep >= 0) {
      tats.values().removeIf(tat -> tat - now <= 0);
      nextSweep = now + SWEEP_NS;
    }
  }

  @Override
  public synchronized int keysHeld() {
    return tats.size();
  }
}
