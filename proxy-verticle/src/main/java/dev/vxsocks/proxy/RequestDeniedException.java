package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.Verdict;

/** The auth verticle refused a request: a rule, a session limit, or the client rules. Carries the verdict for logs. */
public final class RequestDeniedException extends RuntimeException {

  private final Verdict verdict;

  public RequestDeniedException(Verdict verdict) {
    super(verdict.reason() + (verdict.detail() == null ? "" : ": " + verdict.detail()), null, false, false);
    this.verdict = verdict;
  }

  public Verdict verdict() {
    return verdict;
  }
}
