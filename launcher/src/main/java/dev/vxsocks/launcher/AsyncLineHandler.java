package dev.vxsocks.launcher;

import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * Writes log records to standard error, one line each ({@code 2026-11-22T23:40:01.123Z INFO logger message}), from a
 * background thread. java.util.logging's ConsoleHandler formats with String.format and writes and flushes under a
 * lock shared by every thread: with a summary line per session, event loops queued behind each other for tens of
 * milliseconds (seen in a JFR profile under load). Here an event loop only formats the line and hands it over.
 *
 * <p>The queue is bounded: if the disk cannot keep up, lines are dropped rather than stalling the proxy, and the
 * number dropped is written as soon as there is room again. {@link #close()} writes everything still queued.
 */
final class AsyncLineHandler extends Handler {

  private static final int CAPACITY = 1 << 16;
  private static final long LINGER_MS = 20;
  private static final java.time.format.DateTimeFormatter SECOND =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.").withZone(java.time.ZoneOffset.UTC);

  /** The timestamp's text up to the second, for the second of the last line: most lines share it. */
  private record SecondText(long epochSecond, String text) {
  }

  private static volatile SecondText lastSecond = new SecondText(Long.MIN_VALUE, "");

  private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(CAPACITY);
  private final AtomicLong dropped = new AtomicLong();
  private final Writer out = new BufferedWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8), 1 << 16);
  private final Thread writer;
  private volatile boolean closed;
  /** One JSON object per record instead of the readable line ({@code log.format: json}). */
  private volatile boolean json;

  AsyncLineHandler() {
    writer = new Thread(this::drain, "vxsocks-log-writer");
    writer.setDaemon(true);
    writer.start();
  }

  void json(boolean on) {
    json = on;
  }

  @Override
  public void publish(LogRecord record) {
    if (closed || !isLoggable(record)) {
      return;
    }
    String logger = record.getLoggerName(); // null for an anonymous logger
    String message = record.getMessage();
    if (json) {
      if (!queue.offer(JsonLines.line(record, appendTimestamp(new StringBuilder(24), record.getMillis()).toString()))) {
        dropped.incrementAndGet();
      }
      return;
    }
    StringBuilder b = new StringBuilder(48 + (logger == null ? 4 : logger.length()) + (message == null ? 4 : message.length()));
    appendTimestamp(b, record.getMillis()).append(' ')
        .append(record.getLevel().getName()).append(' ')
        .append(logger).append(' ')
        .append(message);
    if (record.getThrown() != null) {
      StringWriter trace = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(trace));
      b.append(System.lineSeparator()).append(trace.toString().stripTrailing());
    }
    if (!queue.offer(b.toString())) {
      dropped.incrementAndGet();
    }
  }

  /**
   * Appends {@code 2026-11-22T23:40:01.123Z} (UTC) for {@code epochMillis}. A summary line per session made
   * DateTimeFormatter's per-call parsing objects a measurable share of what the proxy allocates per session; the
   * text up to the second is formatted once per second instead.
   */
  static StringBuilder appendTimestamp(StringBuilder b, long epochMillis) {
    long second = Math.floorDiv(epochMillis, 1000);
    int millis = (int) Math.floorMod(epochMillis, 1000);
    SecondText cached = lastSecond;
    if (cached.epochSecond() != second) {
      cached = new SecondText(second, SECOND.format(Instant.ofEpochSecond(second)));
      lastSecond = cached;
    }
    b.append(cached.text());
    if (millis < 100) {
      b.append(millis < 10 ? "00" : "0");
    }
    return b.append(millis).append('Z');
  }

  private void drain() {
    try {
      while (!closed || !queue.isEmpty()) {
        String line = queue.poll(100, TimeUnit.MILLISECONDS);
        if (line == null) {
          continue;
        }
        write(line);
        while ((line = queue.poll()) != null) {
          write(line);
        }
        long lost = dropped.getAndSet(0);
        if (lost > 0) {
          write(appendTimestamp(new StringBuilder(), System.currentTimeMillis())
              + " WARNING dev.vxsocks.log " + lost + " log lines dropped: standard error could not keep up");
        }
        out.flush();
        if (!closed) {
          // Linger before the next batch: under load lines then arrive in batches of hundreds, one write(2) each,
          // and the event loops hand lines over without waking this thread (a futex call) for every one of them.
          Thread.sleep(LINGER_MS);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // Standard error is gone: nothing left to report to.
    }
  }

  private void write(String line) throws IOException {
    out.write(line);
    out.write('\n');
  }

  @Override
  public void flush() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!queue.isEmpty() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Writes what is queued (waiting up to 5 s), then stops. */
  @Override
  public void close() {
    closed = true;
    try {
      writer.join(5000);
      out.flush();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException ignored) {
      // nothing to report to
    }
  }
}
