package dev.vxsocks.auth.throttle;

import java.util.HashMap;
import java.util.Map;

/**
 * At most N slow hashes a second per user name on this node: each verification reserves the next free slot of its
 * name (slots 1/N s apart) and waits for it; one that would wait longer than the given bound is not given a slot.
 * Node-local on purpose: it guards this node's CPU.
 */
final class PerUserRate {

  /** Names whose next slot is in the past are dropped once the map holds this many. */
  private static final int SWEEP_AT = 10_000;

  private final Map<String, Long> nextSlot = new HashMap<>();

  /**
   * Reserves a slot for {@code name}: the nanoseconds to wait for it from {@code now}, or -1 (nothing reserved) when
   * that would be longer than {@code maxWaitNanos}.
   */
  synchronized long reserve(String name, int perSecond, long now, long maxWaitNanos) {
    long interval = 1_000_000_000L / perSecond;
    Long next = nextSlot.get(name);
    long at = next == null || next - now < 0 ? now : next;
    long wait = at - now;
    if (wait > maxWaitNanos) {
      return -1;
    }
    nextSlot.put(name, at + interval);
    if (nextSlot.size() >= SWEEP_AT) {
      nextSlot.values().removeIf(n -> n - now < 0);
    }
    return wait;
  }
}
