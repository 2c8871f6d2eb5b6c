package dev.vxsocks.auth;

import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig.User;
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
 * RFC 1929 credential checks. The slow hash runs on a worker thread, never on an event loop. A successful check is
 * remembered for a short time as an HMAC of the password under a key that exists only in this process, so a user
 * who opens many connections pays the hash once, and the cache holds nothing that would reveal the password.
 * Unknown users cost as much as wrong passwords, so timing does not tell which names exist.
 */
public final class CredentialChecker {

  private record Remembered(String hash, byte[] mac, long expiresAtNanos) {
  }

  /** The decoy checked for unknown users, created on first use (a worker thread: creating it is a slow hash). */
  private volatile PasswordHash decoy;
  private final int decoyIterations;

  private final Vertx vertx;
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
    this(vertx, users, cacheTtl, decoyIterations, VerificationMemo.NONE);
  }

  /** As above, with a {@link VerificationMemo} asked before the slow hash and told of every success. */
  public CredentialChecker(Vertx vertx, UserStore users, Duration cacheTtl, int decoyIterations, VerificationMemo memo) {
    this.memo = memo;
    this.decoyIterations = decoyIterations;
    this.vertx = vertx;
    this.users = users;
    this.ttlNanos = cacheTtl.toNanos();
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    this.cacheKey = new SecretKeySpec(key, "HmacSHA256");
  }

  public Future<Verdict> check(String name, String password) {
    return users.find(name).compose(user -> {
      if (user == null) {
        return vertx.executeBlocking(() -> decoy().verify(password.toCharArray()), false)
            .map(ignored -> Verdict.deny(Verdict.BAD_CREDENTIALS, "unknown user"));
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
      // slow hash instead of queueing 100 on the worker pool.
      String flight = name + '\u0000' + java.util.HexFormat.of().formatHex(mac) + '\u0000' + user.password().encoded();
      Promise<Boolean> mine = Promise.promise();
      Future<Boolean> verified = inFlight.putIfAbsent(flight, mine.future());
      if (verified == null) {
        verified = mine.future();
        memo.check(name, user.password().encoded(), password).compose(known -> known ? Future.succeededFuture(true)
            : vertx.executeBlocking(() -> user.password().verify(password.toCharArray()), false)).onComplete(ar -> {
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
      });
    });
  }

  private PasswordHash decoy() {
    PasswordHash d = decoy;
    if (d == null) {
      d = PasswordHash.create("not-a-user".toCharArray(), decoyIterations);
      decoy = d;
    }
    return d;
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
