package dev.vxsocks.auth;

import dev.vxsocks.auth.SessionRateLimiter.Outcome;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.Future;

import java.util.concurrent.atomic.LongAdder;

/**
 * The new-session rate limits as the auth verticle applies them: every session that takes a session slot (CONNECT,
 * BIND, UDP ASSOCIATE; a UDP association's own slot is not a new session) first takes a token under
 * {@code limits.new-sessions-per-second-per-user} and {@code -per-client-ip}. A refusal is a {@link Verdict#LIMIT}
 * (the client gets {@code 0x02}) and is counted here, per limit, for an operator or a metrics exporter to read.
 */
public final class SessionRates {

  private final SessionRateLimiter limiter;
  private final LongAdder refusedPerUser = new LongAdder();
  private final LongAdder refusedPerClientIp = new LongAdder();

  public SessionRates(SessionRateLimiter limiter) {
    this.limiter = limiter;
  }

  /** Null when the session may go on to its session slot; else the refusal to answer. */
  Future<Verdict> check(String user, String clientIp, ProxyConfig.Limits limits) {
    int perUser = limits.newSessionsPerSecondPerUser();
    int perIp = limits.newSessionsPerSecondPerClientIp();
    return limiter.take(user, clientIp, perUser, perIp).map(outcome -> switch (outcome) {
      case LET_THROUGH -> null;
      case PER_USER -> {
        refusedPerUser.increment();
        yield Verdict.limit(Verdict.RATE_PER_USER, "new sessions per second per user (" + perUser + ")");
      }
      case PER_CLIENT_IP -> {
        refusedPerClientIp.increment();
        yield Verdict.limit(Verdict.RATE_PER_IP, "new sessions per second per client ip (" + perIp + ")");
      }
    });
  }

  /** Sessions refused by {@code limits.new-sessions-per-second-per-user} since start. */
  public long refusedPerUser() {
    return refusedPerUser.sum();
  }

  /** Sessions refused by {@code limits.new-sessions-per-second-per-client-ip} since start. */
  public long refusedPerClientIp() {
    return refusedPerClientIp.sum();
  }

  public SessionRateLimiter limiter() {
    return limiter;
  }
}
