package dev.vxsocks.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Collects every record logged under a logger name while open, formatted as the message text. */
final class LogCapture extends Handler implements AutoCloseable {

  private final Logger logger;
  private final Level previous;
  private final List<String> lines = new ArrayList<>();

  LogCapture(String loggerName, Level level) {
    this.logger = Logger.getLogger(loggerName);
    this.previous = logger.getLevel();
    logger.setLevel(level);
    setLevel(level);
    logger.addHandler(this);
  }

  @Override
  public synchronized void publish(LogRecord record) {
    String text = record.getMessage();
    if (record.getThrown() != null) {
      text += " " + record.getThrown();
    }
    lines.add(text);
  }

  synchronized List<String> lines() {
    return new ArrayList<>(lines);
  }

  /** Waits (bounded) for a line containing {@code fragment} and returns it. */
  String await(String fragment, long millis) throws InterruptedException {
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

  @Override
  public void flush() {
  }

  @Override
  public void close() {
    logger.removeHandler(this);
    logger.setLevel(previous);
  }
}
