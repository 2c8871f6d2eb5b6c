package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.Verdict;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The refusal metric's cause: the limit the auth verticle's verdict names, or a rule. */
class RequestDeniedExceptionTest {

  @Test
  void theCauseIsTheLimitTheVerdictNamesAfterTheEventBus() {
    for (String limit : new String[] {Verdict.LIMIT_PER_USER, Verdict.LIMIT_PER_IP, Verdict.RATE_PER_USER,
        Verdict.RATE_PER_IP}) {
      // Through JSON, as the verdict crosses the event bus; the detail text plays no part.
      Verdict v = Verdict.fromJson(Verdict.limit(limit, "any words").toJson());
      assertThat(new RequestDeniedException(v).cause()).isEqualTo(limit);
    }
    assertThat(new RequestDeniedException(Verdict.deny(Verdict.DENIED, "rules.request[2]")).cause())
        .isEqualTo("request-rule");
  }
}
