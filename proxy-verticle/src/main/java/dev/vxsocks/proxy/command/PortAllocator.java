package dev.vxsocks.proxy.command;

import dev.vxsocks.config.PortRange;
import io.vertx.core.Future;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The ports of {@code bind.ports} (or {@code udp.ports}) this node has handed to a session: a port is given to one
 * session at a time and comes back when that session's socket closes. The OS alone cannot ensure this for BIND:
 * Vert.x joins a second {@code listen} on a host and port it already serves to the first server, and then deals the
 * peers that connect out between both, so a session could receive the peer another session was waiting for.
 *
 * <p>One instance per node and per setting, shared by every connection verticle (hence a concurrent set: take and
 * give are single lock-free operations on it, off the per-byte path).
 */
public final class PortAllocator {

  private final Set<Integer> held = ConcurrentHashMap.newKeySet();

  /**
   * A port of {@code range} that no session of this node holds, now held by the caller; -1 when every one is held.
   * Starts at a random place in the range, so that ports are not reused at once (a late packet or peer of a session
   * that just ended must not reach the next one).
   */
  int take(PortRange range) {
    int span = range.high() - range.low() + 1;
    int start = ThreadLocalRandom.current().nextInt(span);
    for (int i = 0; i < span; i++) {
      int port = range.low() + (start + i) % span;
      if (held.add(port)) {
        return port;
      }
    }
    return -1;
  }

  /** Gives back a port {@link #take} returned. */
  void give(int port) {
    held.remove(port);
  }

  /**
   * Gives {@code port} back once {@code closed} completes (nothing for port 0, which the OS chose): only then can the
   * next session given the port bind it.
   */
  void giveWhenClosed(int port, Future<Void> closed) {
    if (port != 0) {
      closed.onComplete(v -> give(port));
    }
  }
}
