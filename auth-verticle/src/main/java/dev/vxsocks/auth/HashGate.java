package dev.vxsocks.auth;

import dev.vxsocks.auth.api.Verdict;
import io.vertx.core.Future;

/**
 * Asked by {@link CredentialChecker} right before a slow hash (or its decoy) for a user name; the login throttle's
 * per-user rate plugs in here. Not asked for a verification remembered in the cache, nor for a login that shares a
 * hash already under way (the same credentials at the same time).
 */
@FunctionalInterface
public interface HashGate {

  /** Lets every hash run at once. */
  HashGate OPEN = name -> Future.succeededFuture();

  /**
   * Completes with null when the hash for {@code name} may run (possibly later: the gate may delay it), or with a
   * verdict that refuses the login without the hash.
   */
  Future<Verdict> beforeHash(String name);
}
