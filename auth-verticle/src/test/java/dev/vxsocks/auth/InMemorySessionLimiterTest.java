package dev.vxsocks.auth;

import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class InMemorySessionLimiterTest {

  private final InMemorySessionLimiter limiter = new InMemorySessionLimiter();

  /** The limiter answers synchronously; a lease or null. */
  private String open(String user, String ip, int perUser, int perIp) {
    Future<String> f = limiter.open(user, ip, perUser, perIp);
    assertThat(f.succeeded()).isTrue();
    return f.result();
  }

  @Test
  void perUserLimit() {
    assertThat(open("alice", "192.0.2.1", 2, 0)).isNotNull();
    assertThat(open("alice", "192.0.2.2", 2, 0)).isNotNull();
    assertThat(open("alice", "192.0.2.3", 2, 0)).isNull();
    assertThat(limiter.countForUser("alice")).isEqualTo(2);
    // Another user is not affected.
    assertThat(open("bob", "192.0.2.1", 2, 0)).isNotNull();
    assertThat(limiter.countForUser("bob")).isEqualTo(1);
  }

  @Test
  void perClientIpLimit() {
    assertThat(open("alice", "192.0.2.1", 0, 2)).isNotNull();
    assertThat(open("bob", "192.0.2.1", 0, 2)).isNotNull();
    assertThat(open(null, "192.0.2.1", 0, 2)).isNull();
    assertThat(open("carol", "192.0.2.1", 0, 2)).isNull();
    assertThat(limiter.countForClientIp("192.0.2.1")).isEqualTo(2);
    assertThat(open("carol", "192.0.2.2", 0, 2)).isNotNull();
    assertThat(open("carol", "2001:db8::1", 0, 2)).isNotNull();
  }

  @Test
  void zeroIsUnlimited() {
    Set<String> leases = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      leases.add(open("alice", "192.0.2.1", 0, 0));
    }
    assertThat(leases).hasSize(1000).doesNotContainNull();
    assertThat(limiter.countForUser("alice")).isEqualTo(1000);
    assertThat(limiter.countForClientIp("192.0.2.1")).isEqualTo(1000);
  }

  @Test
  void anonymousSessionsCountOnlyPerIp() {
    assertThat(open(null, "192.0.2.1", 1, 0)).isNotNull();
    assertThat(open(null, "192.0.2.1", 1, 0)).isNotNull();
    assertThat(limiter.countForClientIp("192.0.2.1")).isEqualTo(2);
    assertThat(open(null, "192.0.2.1", 1, 2)).isNull();
  }

  @Test
  void bothOrNeitherWhenTheUserIsFull() {
    assertThat(open("alice", "192.0.2.1", 1, 5)).isNotNull();
    assertThat(open("alice", "192.0.2.2", 1, 5)).isNull();
    // The refused attempt took no IP slot.
    assertThat(limiter.countForClientIp("192.0.2.2")).isZero();
    assertThat(limiter.countForUser("alice")).isEqualTo(1);
  }

  @Test
  void bothOrNeitherWhenTheIpIsFull() {
    assertThat(open("alice", "192.0.2.1", 5, 1)).isNotNull();
    assertThat(open("bob", "192.0.2.1", 5, 1)).isNull();
    // The refused attempt took no user slot.
    assertThat(limiter.countForUser("bob")).isZero();
    assertThat(limiter.countForClientIp("192.0.2.1")).isEqualTo(1);
  }

  @Test
  void closeFreesBothSlots() {
    String lease = open("alice", "192.0.2.1", 1, 1);
    assertThat(open("alice", "192.0.2.1", 1, 1)).isNull();
    limiter.close(lease);
    assertThat(limiter.countForUser("alice")).isZero();
    assertThat(limiter.countForClientIp("192.0.2.1")).isZero();
    assertThat(open("alice", "192.0.2.1", 1, 1)).isNotNull();
  }

  @Test
  void doubleCloseIsIgnored() {
    String first = open("alice", "192.0.2.1", 2, 2);
    String second = open("alice", "192.0.2.1", 2, 2);
    assertThat(first).isNotEqualTo(second);
    limiter.close(first);
    limiter.close(first);
    // The second close must not have given back the second lease's slot.
    assertThat(limiter.countForUser("alice")).isEqualTo(1);
    assertThat(limiter.countForClientIp("192.0.2.1")).isEqualTo(1);
    assertThat(open("alice", "192.0.2.1", 2, 2)).isNotNull();
    assertThat(open("alice", "192.0.2.1", 2, 2)).isNull();
    limiter.close(second);
    limiter.close(second);
    assertThat(limiter.countForUser("alice")).isEqualTo(1);
  }

  @Test
  void unknownLeasesAreIgnored() {
    open("alice", "192.0.2.1", 0, 0);
    limiter.close("no-such-lease");
    limiter.close(null);
    assertThat(limiter.countForUser("alice")).isEqualTo(1);
    assertThat(limiter.countForClientIp("192.0.2.1")).isEqualTo(1);
  }

  @Test
  void anonymousLeaseCloses() {
    String lease = open(null, "192.0.2.1", 0, 1);
    limiter.close(lease);
    assertThat(limiter.countForClientIp("192.0.2.1")).isZero();
    assertThat(open(null, "192.0.2.1", 0, 1)).isNotNull();
  }

  @Test
  void countsOfStrangersAreZero() {
    assertThat(limiter.countForUser("nobody")).isZero();
    assertThat(limiter.countForClientIp("198.51.100.1")).isZero();
  }
}
