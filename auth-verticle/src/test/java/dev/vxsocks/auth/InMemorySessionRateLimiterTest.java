package dev.vxsocks.auth;

import dev.vxsocks.auth.SessionRateLimiter.Outcome;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The single node's rate limits on a clock the test moves: counts are exact, not bounds. */
class InMemorySessionRateLimiterTest {

  private static final long MS = 1_000_000L;

  private final AtomicLong clock = new AtomicLong(123_456_789L);
  private final InMemorySessionRateLimiter limiter = new InMemorySessionRateLimiter(clock::get);

  private Outcome take(String user, String ip, int perUser, int perIp) {
    return limiter.take(user, ip, perUser, perIp).result();
  }

  private int letThrough(int attempts, String user, String ip, int perUser, int perIp) {
    int n = 0;
    for (int i = 0; i < attempts; i++) {
      if (take(user, ip, perUser, perIp) == Outcome.LET_THROUGH) {
        n++;
      }
    }
    return n;
  }

  @Test
  void aBurstOfTheLimitThenOneEveryInterval() {
    assertThat(letThrough(100, null, "10.0.0.1", 0, 10)).isEqualTo(10);
    assertThat(take(null, "10.0.0.1", 0, 10)).isEqualTo(Outcome.PER_CLIENT_IP);
    clock.addAndGet(99 * MS);
    assertThat(take(null, "10.0.0.1", 0, 10)).isEqualTo(Outcome.PER_CLIENT_IP);
    clock.addAndGet(MS);
    assertThat(letThrough(10, null, "10.0.0.1", 0, 10)).isEqualTo(1);
    // A second without sessions fills the bucket again: the whole burst, and no more.
    clock.addAndGet(1000 * MS);
    assertThat(letThrough(100, null, "10.0.0.1", 0, 10)).isEqualTo(10);
  }

  @Test
  void sustainedRateIsTheLimit() {
    int n = 0;
    for (int ms = 0; ms < 10_000; ms++) {
      n += letThrough(1, "u", null, 25, 0);
      clock.addAndGet(MS);
    }
    // 10 s at 25/s after a burst of 25: 25 + 250, give or take the last interval.
    assertThat(n).isBetween(274, 275);
  }

  @Test
  void theUserAndTheAddressAreKeyedApartAndTakenBothOrNeither() {
    // The user's limit refuses: the address keeps its tokens.
    assertThat(letThrough(5, "alice", "10.0.0.1", 2, 3)).isEqualTo(2);
    assertThat(take("bob", "10.0.0.1", 2, 3)).isEqualTo(Outcome.LET_THROUGH);
    assertThat(take("bob", "10.0.0.1", 2, 3)).isEqualTo(Outcome.PER_CLIENT_IP);
    // The address's limit refuses: the user keeps its tokens elsewhere.
    assertThat(take("carol", "10.0.0.1", 2, 3)).isEqualTo(Outcome.PER_CLIENT_IP);
    assertThat(letThrough(5, "carol", "10.0.0.2", 2, 3)).isEqualTo(2);
    // alice's addresses do not matter to her user limit.
    assertThat(take("alice", "10.0.0.3", 2, 3)).isEqualTo(Outcome.PER_USER);
  }

  @Test
  void withoutAUserOnlyTheAddressCounts() {
    assertThat(letThrough(5, null, "10.0.0.1", 1, 0)).isEqualTo(5);
    assertThat(limiter.keysHeld()).isZero();
  }

  @Test
  void offKeepsNoState() {
    assertThat(letThrough(1000, "alice", "10.0.0.1", 0, 0)).isEqualTo(1000);
    assertThat(limiter.keysHeld()).isZero();
  }

  @Test
  void keysExpireOnceTheirBucketIsFull() {
    for (int i = 0; i < 1000; i++) {
      take("user" + i, "10.0." + (i / 256) + "." + (i % 256), 1, 1);
    }
    assertThat(limiter.keysHeld()).isEqualTo(2000);
    clock.addAndGet(1001 * MS);
    take("next", "10.9.9.9", 1, 1);
    assertThat(limiter.keysHeld()).isEqualTo(2);
  }

  @Test
  void aLimitChangedBetweenSessionsAppliesAtOnce() {
    assertThat(letThrough(10, null, "10.0.0.1", 0, 4)).isEqualTo(4);
    // Raised to 8/s: the second's worth just used stays used, and the new rate runs from there (one per 125 ms).
    assertThat(take(null, "10.0.0.1", 0, 8)).isEqualTo(Outcome.PER_CLIENT_IP);
    clock.addAndGet(125 * MS);
    assertThat(letThrough(10, null, "10.0.0.1", 0, 8)).isEqualTo(1);
    // Lowered to 1/s: nothing until the state has run down.
    clock.addAndGet(875 * MS);
    assertThat(take(null, "10.0.0.1", 0, 1)).isEqualTo(Outcome.PER_CLIENT_IP);
    clock.addAndGet(125 * MS);
    assertThat(letThrough(10, null, "10.0.0.1", 0, 1)).isEqualTo(1);
  }

  @Test
  void gcraArithmetic() {
    assertThat(Gcra.interval(10)).isEqualTo(100 * MS);
    assertThat(Gcra.interval(1_000_000)).isEqualTo(1000);
    assertThat(Gcra.wait(null, 5, 3)).isZero();
    long tat = Gcra.take(null, 0, 2);                 // 500 ms
    tat = Gcra.take(tat, 0, 2);                       // 1000 ms: the burst of 2 is used
    assertThat(Gcra.wait(tat, 0, 2)).isEqualTo(500 * MS);
    assertThat(Gcra.wait(tat, 500 * MS, 2)).isZero();
    assertThat(Gcra.giveBack(tat, 0, 2)).isEqualTo(500 * MS);
    assertThat(Gcra.giveBack(500 * MS, 0, 2)).isNull();
  }
}
