package dev.vxsocks.launcher;

import java.util.logging.Logger;

/**
 * SIGTERM and SIGINT start a {@link Drain} instead of the JVM's immediate shutdown, and a second one skips its wait.
 * The JVM's own handling cannot do this: once a shutdown hook runs, a second signal only blocks. {@code sun.misc.Signal}
 * (module jdk.unsupported, present in every JDK since 9) is the only Java API for it; where it is unavailable (a JVM
 * started with {@code -Xrs}, another runtime), the node falls back to the shutdown hook, which closes sessions at once.
 */
final class StopSignals {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.node");

  private StopSignals() {
  }

  /** True when both signals now start the drain. */
  static boolean install(Drain drain) {
    try {
      for (String name : new String[] {"TERM", "INT"}) {
        sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> drain.request("SIG" + sig.getName()));
      }
      return true;
    } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
      LOG.warning("SIGTERM will close sessions at once (no drain): cannot handle signals here: " + e);
      return false;
    }
  }
}
