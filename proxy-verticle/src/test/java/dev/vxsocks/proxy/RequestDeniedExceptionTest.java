package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.Verdict;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The refusal metric's cause, read from the verdicts the auth verticle gives. */
class RequestDeniedExceptionTest {

  private static String cause(String reason, String detail) {
    return new RequestDeniedException(Verdict.deny(reason, detail)).cause();
  }

  @Test
  void eachVerdictHasItsCause() {
    assertThat(cause(Verdict.DENIED, "rules.request[2]")).isEqualTo("request-rule");
    assertThat(cause(Verdict.LIMIT, "sessions-per-user limit 5 reached for alice")).isEqualTo("limit-per-user");
    assertThat(cause(Verdict.LIMIT, "sessions-per-client-ip limit 5 reached for 10.0.0.1")).isEqualTo("limit-per-ip");
    assertThat(cause(Verdict.LIMIT, "udp-associations-per-user limit 2 reached for alice")).isEqualTo("limit-per-user");
    assertThat(cause(Verdict.LIMIT, "new sessions per second per user (5)")).isEqualTo("rate-per-user");
    assertThat(cause(Verdict.LIMIT, "new sessions per second per client ip (10)")).isEqualTo("rate-per-ip");
  }
}
