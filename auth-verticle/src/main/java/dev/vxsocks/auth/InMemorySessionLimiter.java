package dev.vxsocks.auth;

import io.vertx.core.Future;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Limits for one node. Synchronized because the auth verticle may run as several instances. */
public final class InMemorySessionLimiter implements SessionLimiter {

  private record Held(String user, String clientIp) {
  }

  private final Map<String, Integer> perUser = new HashMap<>();
  private final Map<String, Integer> perIp = new HashMap<>();
  private final Map<String, Held> leases = new HashMap<>();
  private final AtomicLong next = new AtomicLong();

  @Override
  public synchronized Future<String> open(String user, String clientIp, int perUserLimit, int perClientIpLimit) {
    int u = user == null ? 0 : perUser.getOrDefault(user, 0);
    int c = perIp.getOrDefault(clientIp, 0);
    if ((user != null && perUserLimit > 0 && u >= perUserLimit) || (perClientIpLimit > 0 && c >= perClientIpLimit)) {
      return Future.succeededFuture(null);
    }
    if (user != null) {
      perUser.put(user, u + 1);
    }
    perIp.put(clientIp, c + 1);
    String lease = Long.toString(next.incrementAndGet());
    leases.put(lease, new Held(user, clientIp));
    return Future.succeededFuture(lease);
  }

  @Override
  public synchronized void close(String lease) {
    Held h = leases.remove(lease);
    if (h == null) {
      return;
    }
    if (h.user() != null) {
      perUser.computeIfPresent(h.user(), (k, v) -> v <= 1 ? null : v - 1);
    }
    perIp.computeIfPresent(h.clientIp(), (k, v) -> v <= 1 ? null : v - 1);
  }

  @Override
  public synchronized int countForUser(String user) {
    return perUser.getOrDefault(user, 0);
  }

  @Override
  public synchronized int countForClientIp(String clientIp) {
    return perIp.getOrDefault(clientIp, 0);
  }
}
