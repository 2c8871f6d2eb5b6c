package dev.vxsocks.auth.throttle;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The failed logins of one client address: a counter for the address, and one for each user name tried from it.
 * Both stores keep one record per address and change it with these methods only, the in-memory store under the
 * map's lock, the Hazelcast store in an entry processor on the key's owner: one failure is counted atomically on
 * both counters, and exactly one caller in the cluster sees a lockout start.
 *
 * <p>A counter counts failures from the first one for {@code window}; the failure that reaches the threshold locks
 * the counter for the back-off of its lockout (the first lockout {@code backoff}, each next one twice as long, at
 * most {@code backoffMax}) and counting starts again at zero. A counter with no failure and no lockout for
 * {@code window} is forgotten, and with it its lockout count: the back-off starts small again. A success forgets
 * the counter of that user name from that address only, never the address's counter nor another address's.
 *
 * <p>Times are milliseconds of the clock of the node that counted (the caller passes {@code now}): nodes whose clocks
 * differ by a second see a lockout end a second apart.
 */
public final class LoginRecord implements Serializable {

  private static final long serialVersionUID = 1L;
  /**
   * User names remembered per address. An address trying more names than this is (with the default settings)
   * locked by its own counter long before; past it, the counter failed last longest ago and not locked is dropped.
   */
  static final int MAX_USERS = 1000;

  /** What the thresholds are; travels to the key's owner with each failure. */
  public record Rules(int perAddress, int perUserAndAddress, long windowMs, long backoffMs, long backoffMaxMs)
      implements Serializable {

    /** The back-off of lockout number {@code lockout} (1 for the first): doubled each time, at most the maximum. */
    public long backoff(int lockout) {
      long b = backoffMs;
      for (int i = 1; i < lockout && b < backoffMaxMs; i++) {
        b *= 2;
      }
      return Math.min(b, backoffMaxMs);
    }
  }

  /** One counter as it stands: failures counted in the current window, locked until (ms), lockouts so far. */
  public record View(int failures, long lockedUntil, int lockouts) implements Serializable {
    public static final View NONE = new View(0, 0, 0);

    public boolean lockedAt(long now) {
      return lockedUntil > now;
    }
  }

  /** The address's counter and the user name's counter from that address. */
  public record Standing(View address, View user) implements Serializable {
    public static final Standing NONE = new Standing(View.NONE, View.NONE);

    /** Failures on record (or a lockout not yet forgotten) for this address or this user name from it. */
    public boolean dirty() {
      return address.failures() > 0 || address.lockouts() > 0 || user.failures() > 0 || user.lockouts() > 0;
    }
  }

  /** After a failure: the standing, and whether this very failure started a lockout of either counter. */
  public record Outcome(Standing standing, boolean addressLocked, boolean userLocked) implements Serializable {
  }

  static final class Counter implements Serializable {
    private static final long serialVersionUID = 1L;
    int failures;
    long windowStart;
    long lastFailure;
    long lockedUntil;
    int lockouts;
    /** How long a failure counts, as the last failure was counted with. */
    long windowMs;

    /** Counts one failure; true when it reached the threshold and started a lockout. */
    boolean fail(int threshold, Rules rules, long now) {
      windowMs = rules.windowMs();
      if (lockedUntil > now) {
        // A verification that was under way when the lockout began: the lockout covers it already.
        return false;
      }
      if (failures == 0 || now - windowStart >= windowMs) {
        failures = 0;
        windowStart = now;
      }
      failures++;
      lastFailure = now;
      if (failures < threshold) {
        return false;
      }
      lockouts++;
      lockedUntil = now + rules.backoff(lockouts);
      failures = 0;
      return true;
    }

    View view(long now) {
      if (forgettable(now)) {
        return View.NONE;
      }
      return new View(now - windowStart < windowMs ? failures : 0, lockedUntil, lockouts);
    }

    long expiresAt() {
      return Math.max(lastFailure, lockedUntil) + windowMs;
    }

    /** Not locked, and no failure or lockout within the window: the counter (and its lockout count) may go. */
    boolean forgettable(long now) {
      return lockedUntil <= now && now >= expiresAt();
    }
  }

  private final Counter address = new Counter();
  private final HashMap<String, Counter> users = new HashMap<>();

  /** The standing of {@code user} from this address at {@code now}. */
  public Standing standing(String user, long now) {
    Counter u = users.get(user);
    return new Standing(address.view(now), u == null ? View.NONE : u.view(now));
  }

  /** Counts one failed login of {@code user} from this address, on each counter whose threshold is on. */
  public Outcome fail(String user, Rules rules, long now) {
    forgetOld(now);
    boolean addressLocked = false;
    if (rules.perAddress() > 0) {
      addressLocked = address.fail(rules.perAddress(), rules, now);
    }
    boolean userLocked = false;
    if (rules.perUserAndAddress() > 0) {
      Counter u = users.computeIfAbsent(user, k -> new Counter());
      userLocked = u.fail(rules.perUserAndAddress(), rules, now);
      if (users.size() > MAX_USERS) {
        dropOldestUnlocked(now);
      }
    }
    return new Outcome(standing(user, now), addressLocked, userLocked);
  }

  /** A successful login of {@code user} from this address: its counter here is forgotten. True if it had one. */
  public boolean succeed(String user) {
    return users.remove(user) != null;
  }

  /** True when nothing in this record counts any more at {@code now}: the store may drop it. */
  public boolean forgettable(long now) {
    forgetOld(now);
    return users.isEmpty() && address.forgettable(now);
  }

  /** When this record is forgettable if nothing happens meanwhile (for the store's expiry). */
  public long expiresAt() {
    long at = address.expiresAt();
    for (Counter c : users.values()) {
      at = Math.max(at, c.expiresAt());
    }
    return at;
  }

  private void forgetOld(long now) {
    users.values().removeIf(c -> c.forgettable(now));
  }

  private void dropOldestUnlocked(long now) {
    String oldest = null;
    long at = Long.MAX_VALUE;
    for (Iterator<Map.Entry<String, Counter>> it = users.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Counter> e = it.next();
      if (e.getValue().lockedUntil <= now && e.getValue().lastFailure < at) {
        at = e.getValue().lastFailure;
        oldest = e.getKey();
      }
    }
    if (oldest != null) {
      users.remove(oldest);
    }
  }
}
