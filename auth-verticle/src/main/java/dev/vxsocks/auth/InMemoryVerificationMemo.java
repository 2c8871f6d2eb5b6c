package dev.vxsocks.auth;

import io.vertx.core.Future;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The verification memo of one process: what {@link dev.vxsocks.auth.cluster.HazelcastVerificationMemo} keeps for
 * the cluster, kept in a map here. For tests of the memo and of {@link CredentialChecker} (a single node has its
 * credential cache and nobody to share a memo with). Thread-safe.
 */
public final class InMemoryVerificationMemo extends StoredVerificationMemo {

  private final Map<String, String> entries = new ConcurrentHashMap<>();
  private final LongSupplier clockMillis;

  public InMemoryVerificationMemo(MemoSecret secret, Duration ttl, LongSupplier clockMillis) {
    super(secret, ttl, clockMillis);
    this.clockMillis = clockMillis;
  }

  /** What is stored, key to value (read-only). */
  public Map<String, String> entries() {
    return Map.copyOf(entries);
  }

  @Override
  protected Future<String> load(String key) {
    return Future.succeededFuture(entries.get(key));
  }

  @Override
  protected void store(String key, String value, long ttlMillis) {
    long now = clockMillis.getAsLong();
    // Expired entries go when a new one comes: the map never holds more than the users who logged in lately.
    entries.values().removeIf(v -> expiresAt(v) - now <= 0);
    entries.put(key, value);
  }

  @Override
  protected void delete(String key) {
    entries.remove(key);
  }

  private static long expiresAt(String value) {
    try {
      return Long.parseLong(value.substring(value.lastIndexOf(':') + 1));
    } catch (NumberFormatException e) {
      return Long.MIN_VALUE;
    }
  }
}
