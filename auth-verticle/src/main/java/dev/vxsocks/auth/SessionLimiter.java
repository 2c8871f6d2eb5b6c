package dev.vxsocks.auth;

import io.vertx.core.Future;

/**
 * Concurrent-session limits per user and per client IP. A granted slot is a lease that must be given back exactly
 * once. The single-node implementation is {@link InMemorySessionLimiter}; a cluster keeps each node's share apart so
 * a dead node's leases can be dropped.
 */
public interface SessionLimiter {

  /**
   * Takes one slot for {@code user} (null when unauthenticated) and one for {@code clientIp}, both or neither.
   * Succeeds with a lease id, or with null when a limit (0 = unlimited) is reached.
   */
  Future<String> open(String user, String clientIp, int perUserLimit, int perClientIpLimit);

  /** Gives a lease back; unknown or already-returned leases are ignored. */
  void close(String lease);

  /** Sessions currently counted for {@code user}. */
  int countForUser(String user);

  /** Sessions currently counted for {@code clientIp}. */
  int countForClientIp(String clientIp);
}
