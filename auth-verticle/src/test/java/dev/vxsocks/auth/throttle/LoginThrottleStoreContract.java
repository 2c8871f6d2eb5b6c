package dev.vxsocks.auth.throttle;

import dev.vxsocks.auth.throttle.LoginRecord.Outcome;
import dev.vxsocks.auth.throttle.LoginRecord.Rules;
import dev.vxsocks.auth.throttle.LoginRecord.Standing;
import dev.vxsocks.auth.throttle.LoginRecord.View;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every {@link LoginThrottleStore} does, on an explicit clock (milliseconds). Each test uses addresses of its
 * own ({@link #address}), so that a store shared by the tests of a class (a Hazelcast map) starts clean for each.
 * {@link #store(int)} may give a different view of the same store per index (another cluster member): failures
 * counted through one add up with those counted through the other.
 */
public abstract class LoginThrottleStoreContract {

  /** Per address 5, per user and address 3, window 60 s, back-off 1 s doubling up to 4 s. */
  protected static final Rules RULES = new Rules(5, 3, 60_000, 1_000, 4_000);
  private static int next;

  /** The store as seen from member {@code i} (0 or 1); the same store for a single node. */
  protected abstract LoginThrottleStore store(int i);

  /** An address no other test uses. */
  protected static synchronized String address() {
    next++;
    return "192.0.2." + next;
  }

  protected static <T> T await(Future<T> f) throws Exception {
    return f.await(20, TimeUnit.SECONDS);
  }

  private Outcome fail(int member, String address, String user, long now) throws Exception {
    return fail(member, address, user, RULES, now);
  }

  private Outcome fail(int member, String address, String user, Rules rules, long now) throws Exception {
    return await(store(member).fail(address, user, rules, now));
  }

  private Standing read(String address, String user, long now) throws Exception {
    return await(store(0).read(address, user, now));
  }

  @Test
  void backOffGrowsWithEachLockoutUpToItsMaximumAndStartsSmallAgainOnceForgotten() throws Exception {
    String a = address();
    Rules pairs = new Rules(0, 3, 60_000, 1_000, 4_000);
    long t = 1_000_000;
    long[] expected = {1_000, 2_000, 4_000, 4_000};
    for (int lockout = 1; lockout <= expected.length; lockout++) {
      assertThat(fail(0, a, "alice", pairs, t).userLocked()).isFalse();
      assertThat(fail(1, a, "alice", pairs, t + 1).userLocked()).isFalse();
      Outcome third = fail(0, a, "alice", pairs, t + 2);
      assertThat(third.userLocked()).as("lockout %d starts with the third failure", lockout).isTrue();
      View v = third.standing().user();
      assertThat(v.lockouts()).isEqualTo(lockout);
      assertThat(v.lockedUntil()).isEqualTo(t + 2 + expected[lockout - 1]);
      // A failure still under way when the lockout began neither counts nor starts another one.
      assertThat(fail(1, a, "alice", pairs, t + 3).userLocked()).isFalse();
      assertThat(read(a, "alice", t + 3).user()).isEqualTo(v);
      t = v.lockedUntil();
    }
    // Quiet for a whole window after the last lockout ended: forgotten, the next lockout is short again.
    t += RULES.windowMs();
    assertThat(read(a, "alice", t).user()).isEqualTo(View.NONE);
    fail(0, a, "alice", pairs, t);
    fail(1, a, "alice", pairs, t);
    View again = fail(0, a, "alice", pairs, t).standing().user();
    assertThat(again.lockouts()).isEqualTo(1);
    assertThat(again.lockedUntil()).isEqualTo(t + 1_000);
  }

  @Test
  void failuresOlderThanTheWindowDoNotCount() throws Exception {
    String a = address();
    long t = 5_000_000;
    fail(0, a, "alice", t);
    fail(1, a, "alice", t + 1);
    assertThat(read(a, "alice", t + 2).user().failures()).isEqualTo(2);
    // The window runs from the first failure: the third one after it starts a new count.
    Outcome late = fail(0, a, "alice", t + RULES.windowMs());
    assertThat(late.userLocked()).isFalse();
    assertThat(late.standing().user().failures()).isEqualTo(1);
  }

  @Test
  void anAddressIsLockedForEveryNameAndANameOnlyFromThatAddress() throws Exception {
    String a = address();
    String b = address();
    long t = 9_000_000;
    // Three for alice from a: alice is locked out from a, the address is not (3 of 5).
    fail(0, a, "alice", t);
    fail(1, a, "alice", t);
    assertThat(fail(0, a, "alice", t).userLocked()).isTrue();
    Standing bobFromA = read(a, "bob", t + 1);
    assertThat(bobFromA.address().lockedAt(t + 1)).isFalse();
    assertThat(bobFromA.user()).isEqualTo(View.NONE);
    assertThat(bobFromA.dirty()).as("the address has failures on record").isTrue();
    Standing aliceFromB = read(b, "alice", t + 1);
    assertThat(aliceFromB).isEqualTo(Standing.NONE);
    assertThat(aliceFromB.dirty()).isFalse();
    // Two more from a, for other names: the address reaches 5 and is locked for every name.
    assertThat(fail(1, a, "bob", t + 2).addressLocked()).isFalse();
    Outcome fifth = fail(0, a, "carol", t + 3);
    assertThat(fifth.addressLocked()).isTrue();
    assertThat(fifth.userLocked()).isFalse();
    assertThat(fifth.standing().address().lockedUntil()).isEqualTo(t + 3 + 1_000);
    assertThat(read(a, "dave", t + 4).address().lockedAt(t + 4)).isTrue();
    assertThat(read(b, "dave", t + 4)).isEqualTo(Standing.NONE);
  }

  @Test
  void aCleanAddressStaysCleanWhileAnotherHammersTheSameName() throws Exception {
    String attacker = address();
    String owner = address();
    long t = 13_000_000;
    for (int i = 0; i < 40; i++) {
      fail(i % 2, attacker, "alice", t + i);
    }
    assertThat(read(attacker, "alice", t + 40).address().lockedAt(t + 40)).isTrue();
    assertThat(read(owner, "alice", t + 40)).isEqualTo(Standing.NONE);
    // The owner's success from its own address changes nothing at the attacker's.
    Standing before = read(attacker, "alice", t + 41);
    await(store(1).succeed(owner, "alice", t + 41));
    assertThat(read(attacker, "alice", t + 41)).isEqualTo(before);
  }

  @Test
  void aSuccessForgetsThatNameAtThatAddressOnly() throws Exception {
    String a = address();
    String b = address();
    long t = 17_000_000;
    fail(0, a, "alice", t);
    fail(1, a, "alice", t);
    fail(0, b, "alice", t);
    fail(1, b, "alice", t);
    fail(0, b, "bob", t);
    await(store(1).succeed(b, "alice", t + 1));
    assertThat(read(b, "alice", t + 1).user()).isEqualTo(View.NONE);
    assertThat(read(b, "alice", t + 1).address().failures()).as("the address's own count stays").isEqualTo(3);
    assertThat(read(b, "bob", t + 1).user().failures()).isEqualTo(1);
    assertThat(read(a, "alice", t + 1).user().failures()).as("another address's count stays").isEqualTo(2);
    assertThat(read(a, "alice", t + 1).address().failures()).isEqualTo(2);
  }

  @Test
  void aThresholdOfZeroCountsNothingOnThatCounter() throws Exception {
    String a = address();
    long t = 21_000_000;
    Rules pairsOnly = new Rules(0, 2, 60_000, 1_000, 4_000);
    await(store(0).fail(a, "alice", pairsOnly, t));
    Outcome second = await(store(1).fail(a, "alice", pairsOnly, t));
    assertThat(second.userLocked()).isTrue();
    assertThat(second.standing().address()).isEqualTo(View.NONE);
    Rules addressOnly = new Rules(2, 0, 60_000, 1_000, 4_000);
    String b = address();
    await(store(0).fail(b, "alice", addressOnly, t));
    Outcome locked = await(store(1).fail(b, "bob", addressOnly, t));
    assertThat(locked.addressLocked()).isTrue();
    assertThat(locked.standing().user()).isEqualTo(View.NONE);
  }
}
