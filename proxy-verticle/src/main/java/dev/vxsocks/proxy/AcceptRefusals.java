package dev.vxsocks.proxy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Logger;

/**
 * The connections {@link AcceptGate} closed at accept, summed into one WARNING line per interval instead of one per
 * connection: a flood of thousands a second must not become thousands of log lines a second. The first refusal
 * after a quiet interval is logged at once; later ones go into the next line, written when the interval has passed
 * (by the next refusal, or by the verticle's once-a-second sweep). A line names each limit with its count and the
 * sources refused most:
 *
 * <pre>accept: refused 5744 connections in 10.0s: limits.pending-handshakes-per-source (256) 5744; most from 127.0.0.77 (5744)</pre>
 */
final class AcceptRefusals {

  static final long INTERVAL_NANOS = 10_000_000_000L;
  private static final Logger LOG = Logger.getLogger(AcceptGate.class.getName());
  /** Sources remembered per line: a spread-out flood must not grow this map without bound. */
  private static final int MAX_SOURCES = 4096;
  private static final int SOURCES_SHOWN = 3;

  private final long intervalNanos;
  private final Map<String, long[]> byLimit = new LinkedHashMap<>();
  private final Map<Source, long[]> bySource = new HashMap<>();
  private long count;
  private long firstNanos;
  private long lastLineNanos;
  private boolean loggedBefore;

  AcceptRefusals(long intervalNanos) {
    this.intervalNanos = intervalNanos;
  }

  synchronized void refused(String limit, Source source, long nowNanos) {
    if (count == 0) {
      firstNanos = nowNanos;
    }
    count++;
    byLimit.computeIfAbsent(limit, k -> new long[1])[0]++;
    if (source != null) {
      long[] n = bySource.get(source);
      if (n != null) {
        n[0]++;
      } else if (bySource.size() < MAX_SOURCES) {
        bySource.put(source, new long[] {1});
      }
    }
    flush(nowNanos);
  }

  synchronized void flush(long nowNanos) {
    if (count == 0 || (loggedBefore && nowNanos - lastLineNanos < intervalNanos)) {
      return;
    }
    StringBuilder line = new StringBuilder("accept: refused ").append(count)
        .append(count == 1 ? " connection" : " connections")
        .append(String.format(Locale.ROOT, " in %.1fs: ", (nowNanos - firstNanos) / 1e9));
    String sep = "";
    for (Map.Entry<String, long[]> e : byLimit.entrySet()) {
      line.append(sep).append(e.getKey()).append(' ').append(e.getValue()[0]);
      sep = ", ";
    }
    if (!bySource.isEmpty()) {
      List<Map.Entry<Source, long[]>> top = new ArrayList<>(bySource.entrySet());
      top.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
      line.append("; most from ");
      sep = "";
      for (Map.Entry<Source, long[]> e : top.subList(0, Math.min(SOURCES_SHOWN, top.size()))) {
        line.append(sep).append(e.getKey()).append(" (").append(e.getValue()[0]).append(')');
        sep = ", ";
      }
    }
    LOG.warning(line.toString());
    count = 0;
    byLimit.clear();
    bySource.clear();
    lastLineNanos = nowNanos;
    loggedBefore = true;
  }
}
