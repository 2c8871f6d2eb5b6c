package dev.vxsocks.config;

import java.time.Duration;

/** Durations written the way the configuration file writes them. */
public final class Durations {

  private Durations() {
  }

  /** The shortest exact form: {@code 10s}, {@code 250ms}, {@code 5m}. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms > 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0 && ms > 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
