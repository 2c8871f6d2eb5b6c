package dev.vxsocks.launcher;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** The log line's timestamp: the same text as DateTimeFormatter gives, whatever order the instants come in. */
class AsyncLineHandlerTest {

  private static final DateTimeFormatter REFERENCE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  @Test
  void timestampsMatchDateTimeFormatter() {
    long[] edges = {0, 1, 9, 10, 99, 100, 999, 1000, 1001, 951_782_400_000L /* 2000-02-29 */,
        1_795_478_400_999L, 4_102_444_799_999L /* 2099-12-31T23:59:59.999 */};
    for (long t : edges) {
      assertThat(format(t)).isEqualTo(REFERENCE.format(Instant.ofEpochMilli(t)));
    }
    Random random = new Random(3);
    long t = 1_795_478_400_000L;
    for (int i = 0; i < 20_000; i++) {
      // Mostly small steps within a second (the cached prefix), sometimes across one, sometimes back in time.
      t += random.nextInt(10) == 0 ? random.nextInt(3_000) - 1_000 : random.nextInt(7);
      assertThat(format(t)).isEqualTo(REFERENCE.format(Instant.ofEpochMilli(t)));
    }
  }

  /** An anonymous logger's record has no logger name, and a record may have no message: neither may throw. */
  @Test
  void recordsWithoutLoggerNameOrMessageArePublished() {
    AsyncLineHandler handler = new AsyncLineHandler();
    try {
      LogRecord record = new LogRecord(Level.INFO, null);
      assertThat(record.getLoggerName()).isNull();
      assertThatCode(() -> handler.publish(record)).doesNotThrowAnyException();
    } finally {
      handler.close();
    }
  }

  private static String format(long epochMillis) {
    return AsyncLineHandler.appendTimestamp(new StringBuilder(), epochMillis).toString();
  }
}
