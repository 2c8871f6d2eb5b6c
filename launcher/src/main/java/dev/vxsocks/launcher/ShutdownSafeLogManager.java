package dev.vxsocks.launcher;

import java.util.logging.LogManager;

/**
 * java.util.logging resets (removes every handler) from a shutdown hook of its own, which runs at the same time as
 * ours: on SIGTERM the lines "vxsocks stopping" and each ended session's summary would be lost. This manager skips
 * that reset once the JVM is shutting down; records are flushed as they are written, so nothing is left behind.
 * Installed through {@code java.util.logging.manager} before the first logger exists (see {@link Main}).
 */
public final class ShutdownSafeLogManager extends LogManager {

  @Override
  public void reset() {
    if (shuttingDown()) {
      return;
    }
    super.reset();
  }

  private static boolean shuttingDown() {
    Thread probe = new Thread(() -> { });
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException inProgress) {
      return true;
    }
  }
}
