package dev.vxsocks.launcher;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.logging.LogManager;

/**
 * One line per record on standard error: {@code 2026-11-22T23:40:01.123Z INFO dev.vxsocks.session session=...}.
 * A user-supplied {@code -Djava.util.logging.config.file} takes precedence.
 */
final class LogSetup {

  private LogSetup() {
  }

  /**
   * The JDK's LogManager resets (closes) every handler in its own shutdown hook, which races ours: the
   * "vxsocks stopping" line and the summary lines of the sessions closed at shutdown were lost. This manager ignores
   * a reset once the JVM is shutting down; the console handler needs no closing.
   */
  public static final class ShutdownSafeLogManager extends LogManager {
    @Override
    public void reset() {
      if (!shuttingDown()) {
        super.reset();
      }
    }

    private static boolean shuttingDown() {
      Thread probe = new Thread(() -> { });
      try {
        Runtime.getRuntime().addShutdownHook(probe);
        Runtime.getRuntime().removeShutdownHook(probe);
        return false;
      } catch (IllegalStateException alreadyShuttingDown) {
        return true;
      }
    }
  }

  static void configure(String level) {
    if (System.getProperty("java.util.logging.config.file") != null) {
      return;
    }
    String props = String.join("\n",
        "handlers=java.util.logging.ConsoleHandler",
        ".level=INFO",
        "dev.vxsocks.level=" + level,
        "java.util.logging.ConsoleHandler.level=" + level,
        "java.util.logging.SimpleFormatter.format=%1$tFT%1$tT.%1$tLZ %4$s %3$s %5$s%6$s%n",
        "com.hazelcast.level=WARNING",
        "io.netty.level=WARNING",
        "");
    System.setProperty("user.timezone", "UTC");
    java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("UTC"));
    try {
      LogManager.getLogManager().readConfiguration(new ByteArrayInputStream(props.getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
