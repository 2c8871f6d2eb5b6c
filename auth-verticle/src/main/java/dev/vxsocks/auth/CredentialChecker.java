package dev.vxsocks.auth;

import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.ProxyConfig.User;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RFC 1929 credential checks. The slow hash runs on the bounded {@link VerifyPool}, never on an event loop nor on
 * Vert.x's worker pool; a full pool refuses the login at once ({@link Verdict#BUSY}). A successful check is
 * remembered for a short time as an HMAC of the password under a key that exists only in this process, so a user
 * who opens many connections pays the hash once, and the cache holds nothing that would reveal the password.
 * Unknown users take as long as wrong passwords, so timing does not tell which names exist, but cost no hash
 * ({@link VerifyPool#decoy}). The {@link HashGate} is asked before every hash or decoy, never for a cache hit.
 */
public final class CredentialChecker {

  private record Remembered(String hash, byte[] mac, long expiresAtNanos) {
  }

  /** What an unknown user's refusal costs in time: a hash of this many iterations. */
  private final int decoyIterations;

  private final Vertx vertx;
  private final VerifyPool pool;
  private final UserStore users;
  private final long ttlNanos;
  private final SecretKeySpec cacheKey;
  private final Map<String, Remembered> cache = new ConcurrentHashMap<>();
  private final Map<String, Future<Boolean>> inFlight = new ConcurrentHashMap<>();
  /** Asked before the slow hash, told after a success: passwords verified lately anywhere in the cluster. */
  private final VerificationMemo memo;

  /**
   * {@code decoyIterations} should be what the configured users' hashes cost, so that an unknown name takes as long
   * to refuse as a wrong password.
   */
  public CredentialChecker(Vertx vertx, UserStore users, Duration cacheTtl, int decoyIterations) {
    this(vertx, users, cacheTtl, decoyIterations, defaultPool(), VerificationMemo.NONE);
  }

  /** As above, with a {@link VerificationMemo} asked before the slow hash and told of every success. */
  public CredentialChecker(Vertx vertx, UserStore users, Duration cacheTtl, int decoyIterations, VerificationMemo memo) {
    this(vertx, users, cacheTtl, decoyIterations, defaultPool(), memo);
  }

  /** As above, the hashes running on {@code pool} (the auth verticle's, sized by {@code auth.verify-*}). */
  public CredentialChecker(Vertx vertx, UserStore users, Duration cacheTtl, int decoyIterations, VerifyPool pool) {
    this(vertx, users, cacheTtl, decoyIterations, pool, VerificationMemo.NONE);
  }

  /** The full form: hashes on {@code pool}, the cluster's {@code memo} asked first. */
  public CredentialChecker(Vertx vertx, UserStore users, Duration cacheTtl, int decoyIterations, VerifyPool pool,
                           VerificationMemo memo) {
    this.memo = memo;
    this.decoyIterations = decoyIterations;
    this.vertx = vertx;
    this.pool = pool;
    this.users = users;
    this.ttlNanos = cacheTtl.toNanos();
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    this.cacheKey = new SecretKeySpec(key, "HmacSHA256");
  }

  public Future<Verdict> check(String name, String password) {
    return check(name, password, HashGate.OPEN);
  }

  /** As {@link #check(String, String)}, asking {@code gate} before a hash or a decoy. */
  public Future<Verdict> check(String name, String password, HashGate gate) {
    Context context = vertx.getOrCreateContext();
    return users.find(name).compose(user -> {
      if (user == null) {
        return gate.beforeHash(name).compose(refused -> refused != null ? Future.succeededFuture(refused)
            : pool.decoy(context, decoyIterations).map(ignored -> Verdict.deny(Verdict.BAD_CREDENTIALS, "unknown user"))
                .recover(err -> err instanceof VerifyPool.Busy
                    ? Future.succeededFuture(Verdict.deny(Verdict.BUSY, err.getMessage())) : Future.failedFuture(err)));
      }
      if (!user.enabled()) {
        return Future.succeededFuture(Verdict.deny(Verdict.DISABLED, "user is disabled"));
      }
      byte[] mac = mac(name, password);
      Remembered r = cache.get(name);
      long now = System.nanoTime();
      if (r != null && r.hash().equals(user.password().encoded()) && now - r.expiresAtNanos() < 0
          && MessageDigest.isEqual(r.mac(), mac)) {
        if (r.expiresAtNanos() - now < ttlNanos / 2) {
          // Still in use: keep it, so a steady stream of logins does not pay the hash again every TTL.
          cache.put(name, new Remembered(r.hash(), r.mac(), now + ttlNanos));
          memo.record(name, r.hash(), password);
        }
        return Future.succeededFuture(Verdict.allow("cached"));
      }
      // Logins that arrive together with the same credentials (a client opening 100 connections at once) share one
      // slow hash instead of queueing 100 on the pool.
      String flight = name + '\u0000' + java.util.HexFormat.of().formatHex(mac) + '\u0000' + user.password().encoded();
      Promise<Boolean> mine = Promise.promise();
      Future<Boolean> verified = inFlight.putIfAbsent(flight, mine.future());
      if (verified == null) {
        verified = mine.future();
        // The memo first (no hash when another node verified this password lately), then the gate and the hash.
        memo.check(name, user.password().encoded(), password).compose(known -> known ? Future.succeededFuture(true)
            : hash(context, gate, name, user, password)).onComplete(ar -> {
          inFlight.remove(flight, mine.future());
          mine.handle(ar);
        });
      }
      return verified.map(ok -> {
        if (!ok) {
          return Verdict.deny(Verdict.BAD_CREDENTIALS, "wrong password");
        }
        cache.put(name, new Remembered(user.password().encoded(), mac, System.nanoTime() + ttlNanos));
        memo.record(name, user.password().encoded(), password);
        return Verdict.allow("verified");
      }).recover(CredentialChecker::notChecked);
    });
  }

  private static VerifyPool defaultPool() {
    return new VerifyPool(Math.max(1, Runtime.getRuntime().availableProcessors() / 2), 32, Duration.ofMinutes(1));
  }

  /** Asks {@code gate}, then runs the hash on the pool; a refusal by either fails with {@link NotChecked}. */
  private Future<Boolean> hash(Context context, HashGate gate, String name, User user, String password) {
    return gate.beforeHash(name).compose(refused -> refused != null ? Future.failedFuture(new NotChecked(refused))
        : pool.verify(context, user.password().iterations(), () -> user.password().verify(password.toCharArray()))
            .recover(err -> Future.failedFuture(err instanceof VerifyPool.Busy
                ? new NotChecked(Verdict.deny(Verdict.BUSY, err.getMessage())) : err)));
  }

  /** A login refused before its hash ran: by the gate, or because the pool was full or the wait too long. */
  private static final class NotChecked extends RuntimeException {
    final Verdict verdict;

    NotChecked(Verdict verdict) {
      super(verdict.detail(), null, false, false);
      this.verdict = verdict;
    }
  }

  private static Future<Verdict> notChecked(Throwable err) {
    return err instanceof NotChecked n ? Future.succeededFuture(n.verdict) : Future.failedFuture(err);
  }

  /** Forgets what was remembered for {@code name} (password changed, user disabled or removed). */
  public void forget(String name) {
    cache.remove(name);
  }

  private byte[] mac(String name, String password) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(cacheKey);
      m.update(name.getBytes(StandardCharsets.UTF_8));
      m.update((byte) 0);
      return m.doFinal(password.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }
}
