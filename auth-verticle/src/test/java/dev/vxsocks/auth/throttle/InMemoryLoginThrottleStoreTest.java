package dev.vxsocks.auth.throttle;

import dev.vxsocks.auth.throttle.LoginRecord.Rules;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The single node's store: the contract, and that it forgets what no longer counts. */
class InMemoryLoginThrottleStoreTest extends LoginThrottleStoreContract {

  private final InMemoryLoginThrottleStore store = new InMemoryLoginThrottleStore();

  @Override
  protected LoginThrottleStore store(int i) {
    return store;
  }

  @Test
  void recordsThatNoLongerCountAreDropped() throws Exception {
    Rules rules = new Rules(5, 3, 1_000, 1_000, 4_000);
    long t = 0;
    for (int i = 0; i < InMemoryLoginThrottleStore.SWEEP_EVERY - 1; i++) {
      store.fail("198.51.100." + (i % 200), "u" + i, rules, t);
    }
    assertThat(store.size()).isEqualTo(200);
    // A window and a back-off later, the next failure's sweep drops every other address.
    long later = t + 10_000;
    store.fail("203.0.113.1", "u", rules, later);
    assertThat(store.size()).isEqualTo(1);
    assertThat(await(store.read("198.51.100.1", "u1", later))).isEqualTo(LoginRecord.Standing.NONE);
  }
}
