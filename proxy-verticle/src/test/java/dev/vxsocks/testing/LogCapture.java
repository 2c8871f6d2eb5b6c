package dev.vxsocks.testing;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects every record logged under a logger name while open. Two views: {@link #lines()}, each record's message
 * (and its exception, if any), to assert on; {@link #text()}, each record with its level and logger, for assertion
 * messages that show what the proxy said.
 */
public final class LogCapture extends Handler implements AutoCloseable {

  /** Held strongly: java.util.logging keeps loggers only weakly, and the level set here must stick. */
  private final Logger logger;
  private final Level previous;
  private final Queue<String[]> records = new ConcurrentLinkedQueue<>();

  /** Every record of the {@code dev.vxsocks} loggers, FINE and up. */
  public LogCapture() {
    this("dev.vxsocks", Level.FINE);
  }

  /** Every record of {@code loggerName} and its children, {@code level} and up. */
  public LogCapture(String loggerName, Level level) {
    this.logger = Logger.getLogger(loggerName);
    this.previous = logger.getLevel();
    setLevel(Level.ALL);
    logger.setLevel(level);
    logger.addHandler(this);
  }

  @Override
  public void publish(LogRecord r) {
    String message = String.valueOf(r.getMessage());
    String line = r.getThrown() == null ? message : message + " " + r.getThrown();
    records.add(new String[] {line, r.getLevel() + " " + r.getLoggerName() + " " + message});
  }

  /** Each record's message, with its exception appended when it has one. */
  public List<String> lines() {
    return records.stream().map(r -> r[0]).toList();
  }

  /** Everything logged so far, one record a line: level, logger, message. */
  public String text() {
    return String.join("\n", records.stream().map(r -> r[1]).toList());
  }

  /** Waits (bounded) for a message containing {@code fragment} and returns it; fails, showing all lines, if none. */
  public String await(String fragment, long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < deadline) {
      for (String l : lines()) {
        if (l.contains(fragment)) {
          return l;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no log line containing '" + fragment + "' within " + millis + " ms; saw " + lines());
  }

  /** Waits (at most 20 s, polling) until a record containing {@code fragment} has been logged; whether one was. */
  public boolean awaitLine(String fragment) throws InterruptedException {
    for (int i = 0; i < 200; i++) {
      if (records.stream().anyMatch(r -> r[1].contains(fragment))) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  @Override
  public void flush() {
  }

  @Override
  public void close() {
    logger.removeHandler(this);
    logger.setLevel(previous);
  }
}
