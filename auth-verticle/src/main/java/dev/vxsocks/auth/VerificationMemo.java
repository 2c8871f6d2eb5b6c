package dev.vxsocks.auth;

import io.vertx.core.Future;

/**
 * What a node remembers of passwords verified lately, for any node to check cheaply instead of paying the slow hash
 * again: after a failover, the users of a dead node log in on a node that has never seen them (README, "Logins after
 * a failover"; docs/security/verification-memo.md). {@link CredentialChecker} asks it before the slow hash and tells
 * it after a success.
 *
 * <p>An entry is bound to the user's stored hash: a password verified against an older hash never matches a newer
 * one, so a password change is safe even before {@link #drop} has run everywhere. Calls never block and never fail:
 * a memo that cannot answer is a miss, and the slow hash decides.
 */
public interface VerificationMemo {

  /** No memo: every check misses. */
  VerificationMemo NONE = new VerificationMemo() {
    @Override
    public Future<Boolean> check(String name, String storedHash, String password) {
      return Future.succeededFuture(false);
    }

    @Override
    public void record(String name, String storedHash, String password) {
    }

    @Override
    public void drop(String name) {
    }
  };

  /**
   * True when {@code password} was verified against {@code storedHash} (the PHC string) for {@code name} within the
   * memo's lifetime; false otherwise, also when the memo cannot be read. Completes on the caller's context.
   */
  Future<Boolean> check(String name, String storedHash, String password);

  /**
   * {@code password} has just been verified against {@code storedHash} for {@code name} (by the slow hash, or by a
   * cache or the memo itself): remember it for the memo's lifetime from now. Cheap when it was remembered lately: a
   * write happens only when the entry has less than half its lifetime left.
   */
  void record(String name, String storedHash, String password);

  /** Forgets {@code name} (disabled, removed, given a new password). */
  void drop(String name);
}
