package dev.vxsocks.launcher;

import io.vertx.core.json.JsonObject;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.LogRecord;

/**
 * A log record as one JSON object ({@code log.format: json}), for log shippers: {@code time}, {@code level},
 * {@code logger}, {@code message}, {@code thrown}; a session's summary line also as its fields ({@code session},
 * {@code client}, {@code via}, {@code user}, {@code cmd}, {@code target}, {@code reply}, {@code up}, {@code down},
 * {@code duration_ms}, the UDP counters, {@code close}), numbers as numbers. The summary line is the one format both
 * outputs share: its values never hold a space (peer-supplied text is escaped) except {@code close}, which is quoted
 * and always last.
 */
final class JsonLines {

  private static final String SESSION_LOGGER = "dev.vxsocks.session";

  private JsonLines() {
  }

  static String line(LogRecord record, String time) {
    JsonObject o = new JsonObject().put("time", time).put("level", record.getLevel().getName())
        .put("logger", record.getLoggerName());
    String message = record.getMessage();
    if (SESSION_LOGGER.equals(record.getLoggerName()) && message != null && message.startsWith("session=")
        && message.endsWith("\"")) {
      summaryFields(message, o);
    }
    o.put("message", message);
    if (record.getThrown() != null) {
      StringWriter trace = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(trace));
      o.put("thrown", trace.toString().stripTrailing());
    }
    return o.encode();
  }

  /** {@code key=value ... close="reason"} into {@code o}. */
  static void summaryFields(String line, JsonObject o) {
    int close = line.indexOf(" close=\"");
    String head = close < 0 ? line : line.substring(0, close);
    for (String field : head.split(" ")) {
      int eq = field.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      String key = field.substring(0, eq);
      String value = field.substring(eq + 1);
      switch (key) {
        case "up", "down" -> o.put(key, parseLong(value));
        case "duration" -> o.put("duration_ms", parseLong(value.endsWith("ms") ? value.substring(0, value.length() - 2) : value));
        default -> o.put(key.replace('-', '_'), value);
      }
    }
    if (close >= 0) {
      o.put("close", line.substring(close + " close=\"".length(), line.length() - 1));
    }
  }

  private static Object parseLong(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return s;
    }
  }
}
