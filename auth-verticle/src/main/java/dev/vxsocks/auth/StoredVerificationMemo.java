package dev.vxsocks.auth;

import io.vertx.core.Future;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A {@link VerificationMemo} over a key-value store, which the subclass provides (a map in this process, or the
 * cluster's). Per user, one entry: under {@link MemoSecret#entryKey}, the value {@code 1:PROOF:EXPIRES} with
 * {@link MemoSecret#proof} in Base64 and the expiry in epoch milliseconds, so neither the key nor the value reveals the
 * name or the password without the secret, and the secret itself is never stored. The store's own expiry, where it has
 * one, only saves space: a reader checks {@code EXPIRES} itself.
 *
 * <p>Each node notes the entries it wrote or matched lately, so that a user logging in again and again costs a write
 * only once per half lifetime (a login that hits a node's own credential cache refreshes the memo through
 * {@link #record}).
 */
public abstract class StoredVerificationMemo implements VerificationMemo {

  private static final Logger LOG = Logger.getLogger(VerificationMemo.class.getName());
  private static final String VERSION = "1";

  private record Noted(byte[] proof, long expiresAtMillis) {
  }

  private final MemoSecret secret;
  private final long ttlMillis;
  private final LongSupplier clockMillis;
  private final Map<String, Noted> noted = new ConcurrentHashMap<>();
  private final AtomicBoolean failing = new AtomicBoolean();

  /** {@code clockMillis}: epoch milliseconds, comparable between the nodes that share the store. */
  protected StoredVerificationMemo(MemoSecret secret, Duration ttl, LongSupplier clockMillis) {
    if (ttl.isZero() || ttl.isNegative()) {
      throw new IllegalArgumentException("a memo needs a positive lifetime");
    }
    this.secret = secret;
    this.ttlMillis = ttl.toMillis();
    this.clockMillis = clockMillis;
  }

  /** The value under {@code key}, or null. May fail; never blocks the caller. */
  protected abstract Future<String> load(String key);

  /** Sets {@code key} to {@code value}, kept at least {@code ttlMillis} (the value carries its own expiry). */
  protected abstract void store(String key, String value, long ttlMillis);

  protected abstract void delete(String key);

  @Override
  public Future<Boolean> check(String name, String storedHash, String password) {
    String key = secret.entryKey(name);
    byte[] proof = secret.proof(name, storedHash, password);
    Future<String> value;
    try {
      value = load(key);
    } catch (RuntimeException e) {
      value = Future.failedFuture(e);
    }
    return value.map(v -> {
      failing.set(false);
      Noted entry = parse(v);
      if (entry == null || entry.expiresAtMillis() - clockMillis.getAsLong() <= 0
          || !MessageDigest.isEqual(entry.proof(), proof)) {
        return false;
      }
      noted.put(key, entry);
      LOG.fine(() -> "memo: the password of " + name + " matched the verification memo");
      return true;
    }).otherwise(err -> {
      // One WARNING per outage: a memo that cannot be read costs the slow hash, it refuses nobody.
      Level level = failing.compareAndSet(false, true) ? Level.WARNING : Level.FINE;
      LOG.log(level, "memo: cannot read the verification memo, verifying with the slow hash: " + err);
      return false;
    });
  }

  @Override
  public void record(String name, String storedHash, String password) {
    String key = secret.entryKey(name);
    byte[] proof = secret.proof(name, storedHash, password);
    long now = clockMillis.getAsLong();
    Noted n = noted.get(key);
    if (n != null && n.expiresAtMillis() - now > ttlMillis / 2 && MessageDigest.isEqual(n.proof(), proof)) {
      return;
    }
    Noted next = new Noted(proof, now + ttlMillis);
    noted.put(key, next);
    try {
      store(key, VERSION + ":" + Base64.getEncoder().encodeToString(proof) + ":" + next.expiresAtMillis(), ttlMillis);
    } catch (RuntimeException e) {
      LOG.fine(() -> "memo: cannot write the verification memo: " + e);
    }
  }

  @Override
  public void drop(String name) {
    String key = secret.entryKey(name);
    noted.remove(key);
    try {
      delete(key);
    } catch (RuntimeException e) {
      // The entry stays until it expires; it cannot match a new password (bound to the stored hash), and a disabled
      // or removed user is refused before the memo is asked.
      LOG.fine(() -> "memo: cannot drop an entry of the verification memo: " + e);
    }
  }

  /** The entry in {@code value}, or null when there is none or it is not one this version wrote. */
  private static Noted parse(String value) {
    if (value == null) {
      return null;
    }
    String[] parts = value.split(":", -1);
    if (parts.length != 3 || !parts[0].equals(VERSION)) {
      return null;
    }
    try {
      return new Noted(Base64.getDecoder().decode(parts[1].getBytes(StandardCharsets.US_ASCII)), Long.parseLong(parts[2]));
    } catch (IllegalArgumentException malformed) {
      return null;
    }
  }
}
