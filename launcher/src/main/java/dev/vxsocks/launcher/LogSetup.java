package dev.vxsocks.launcher;

import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * One line per record on standard error, written off the event loops ({@link AsyncLineHandler}):
 * {@code 2026-11-22T23:40:01.123Z INFO dev.vxsocks.session session=...}. A user-supplied
 * {@code -Djava.util.logging.config.file} takes precedence.
 */
final class LogSetup {

  private static AsyncLineHandler handler;

  private LogSetup() {
  }

  static synchronized void configure(String level) {
    if (System.getProperty("java.util.logging.config.file") != null) {
      return;
    }
    LogManager.getLogManager().reset();
    Level l = Level.parse(level);
    handler = new AsyncLineHandler();
    handler.setLevel(l);
    Logger root = Logger.getLogger("");
    root.setLevel(Level.INFO);
    root.addHandler(handler);
    Logger.getLogger("dev.vxsocks").setLevel(l);
    Logger.getLogger("com.hazelcast").setLevel(Level.WARNING);
    Logger.getLogger("io.netty").setLevel(Level.WARNING);
  }

  /**
   * {@code log.format}: records from now on as JSON objects, or as lines. The log is set up before the configuration
   * is read, so what comes before that (a configuration error) is always a line.
   */
  static synchronized void json(boolean on) {
    if (handler != null) {
      handler.json(on);
    }
  }

  /** Writes every queued line (called last on shutdown). */
  static synchronized void close() {
    if (handler != null) {
      handler.close();
    }
  }
}
