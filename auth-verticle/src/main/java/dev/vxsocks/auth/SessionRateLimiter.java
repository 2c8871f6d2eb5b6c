package dev.vxsocks.auth;

import io.vertx.core.Future;

/**
 * New-session rate limits per user and per client IP ({@code limits.new-sessions-per-second-per-*}): one token of
 * each limited key per session let through, both or neither (a session refused by one limit uses none of the
 * other's). The single-node implementation is {@link InMemorySessionRateLimiter}; a cluster's is
 * {@code cluster/HazelcastSessionRateLimiter}. Both use {@link Gcra}. What the auth verticle answers and counts is in
 * {@link SessionRates}.
 */
public interface SessionRateLimiter {

  /** What {@link #take} decided. */
  enum Outcome { LET_THROUGH, PER_USER, PER_CLIENT_IP }

  /**
   * Takes a token for {@code user} (null when unauthenticated) and one for {@code clientIp}, under limits per second
   * (0 = off, no state and, in a cluster, no call). Fails only when the cluster store cannot be reached and the
   * configuration refuses then.
   */
  Future<Outcome> take(String user, String clientIp, int perUserPerSecond, int perClientIpPerSecond);

  /** The keys with state held on this node (tests and diagnostics: memory stays bounded). */
  int keysHeld();
}
