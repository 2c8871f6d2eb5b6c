package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5Failure;

/**
 * The auth verticle refused a request: a rule, a session limit, or the client rules. Replies 0x02 (not allowed by
 * ruleset); carries the verdict for logs and for the callers that treat a limit differently from a rule.
 */
public final class RequestDeniedException extends Socks5Failure {

  private final Verdict verdict;

  public RequestDeniedException(Verdict verdict) {
    super(ReplyCode.NOT_ALLOWED, verdict.reason() + (verdict.detail() == null ? "" : ": " + verdict.detail()));
    this.verdict = verdict;
  }

  public Verdict verdict() {
    return verdict;
  }

  /**
   * What refused, for the refusal metric: {@code request-rule}, or the limit the auth verticle named
   * ({@link Verdict#limit()}: {@code limit-per-user}, {@code limit-per-ip}, {@code rate-per-user}, {@code rate-per-ip}).
   */
  public String cause() {
    if (!isLimit()) {
      return ProxyMetrics.REQUEST_RULE;
    }
    return verdict.limit() != null ? verdict.limit() : "limit";
  }

  /** True when a session limit refused, not a rule: another address of the same name would be refused too. */
  public boolean isLimit() {
    return Verdict.LIMIT.equals(verdict.reason());
  }
}
