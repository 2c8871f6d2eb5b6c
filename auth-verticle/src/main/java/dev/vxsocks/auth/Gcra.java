package dev.vxsocks.auth;

/**
 * The rate arithmetic of the new-session limits: GCRA (the generic cell rate algorithm), a token bucket kept as one
 * number per key. For a limit of {@code L} per second, each session let through moves the key's theoretical arrival
 * time ({@code tat}, nanoseconds on some clock) one interval {@code T = 1 s / L} later; a session arriving at
 * {@code now} is let through when {@code tat} is at most {@code (L - 1) * T} ahead of it. So a key idle for a second
 * lets a burst of exactly {@code L} through at once, then one every {@code T}: at most {@code L + L * S} in any span
 * of {@code S} seconds, and {@code L} per second sustained.
 *
 * <p>A key whose {@code tat} is not after {@code now} is in the same state as a key never seen: its state can be
 * dropped then, so keys expire at most a second (at the lowest limit they were used with) after their last session.
 * Pure functions: the in-memory limiter and the cluster's entry processor both use them.
 */
public final class Gcra {

  private static final long SECOND_NS = 1_000_000_000L;

  private Gcra() {
  }

  /** The interval between two sessions at {@code perSecond} (at least 1 ns). */
  public static long interval(int perSecond) {
    return Math.max(1, SECOND_NS / perSecond);
  }

  /**
   * How long (ns) a session arriving at {@code now} must wait to be let through: 0 when it may go now. {@code tat}
   * null means the key has no state (a full bucket).
   */
  public static long wait(Long tat, long now, int perSecond) {
    long t = interval(perSecond);
    long ahead = (tat == null ? now : Math.max(tat, now)) - now;
    long over = ahead - (perSecond - 1L) * t;
    return over > 0 ? over : 0;
  }

  /** The key's new {@code tat} after letting one session through at {@code now} (check {@link #wait} first). */
  public static long take(Long tat, long now, int perSecond) {
    return (tat == null ? now : Math.max(tat, now)) + interval(perSecond);
  }

  /**
   * The key's {@code tat} after giving back one session let through (its other limit refused it): null when the
   * key then has no state left.
   */
  public static Long giveBack(Long tat, long now, int perSecond) {
    if (tat == null) {
      return null;
    }
    long back = tat - interval(perSecond);
    return back - now > 0 ? back : null;
  }
}
