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
   * What refused, for the refusal metric: {@code request-rule}, {@code limit-per-user}, {@code limit-per-ip},
   * {@code rate-per-user} or {@code rate-per-ip}. The auth verticle names the limit in a limit's detail
   * ({@code sessions-per-user limit 5 reached ...}, {@code new sessions per second per client ip (10)}).
   */
  public String cause() {
    if (!isLimit()) {
      return "request-rule";
    }
    String detail = verdict.detail() == null ? "" : verdict.detail();
    boolean perUser = detail.contains("-per-user") || detail.contains(" per user");
    // A new-session rate ("new sessions per second per user (5)") or a concurrent limit ("sessions-per-user ...").
    if (detail.contains("per second")) {
      return perUser ? "rate-per-user" : "rate-per-ip";
    }
    return perUser ? "limit-per-user" : "limit-per-ip";
  }

  /** True when a session limit refused, not a rule: another address of the same name would be refused too. */
  public boolean isLimit() {
    return Verdict.LIMIT.equals(verdict.reason());
  }
}
