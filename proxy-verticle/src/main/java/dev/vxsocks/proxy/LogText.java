package dev.vxsocks.proxy;

/** Makes peer-supplied text (user names, host names) safe for a one-line log: no control bytes, bounded length. */
public final class LogText {

  private static final int MAX = 255;

  private LogText() {
  }

  public static String safe(String s) {
    if (s == null) {
      return "-";
    }
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX) + 8);
    for (int i = 0; i < s.length() && i < MAX; i++) {
      char c = s.charAt(i);
      if (c < 0x21 || c == 0x7f || c == '"' || c == '\\' || c > 0x7e) {
        b.append(c > 0xff ? String.format("\\u%04x", (int) c) : String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (s.length() > MAX) {
      b.append("...");
    }
    return b.toString();
  }
}
