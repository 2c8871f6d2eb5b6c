package dev.vxsocks.config;

/**
 * A configuration value that cannot be used. The message always names the key (as a dotted path, or the environment
 * variable / system property it came from) and what is wrong with it, in one line, so the launcher can print it and
 * exit without a stack trace.
 */
public final class ConfigException extends RuntimeException {

  private final String key;

  public ConfigException(String key, String problem) {
    super(key + ": " + oneLine(problem), null, false, false);
    this.key = key;
  }

  /**
   * The problem quotes values from the document, which may hold line breaks (a YAML block scalar, "\n"): those, and
   * every other control character, are written as {@code \}{@code uXXXX}, so the message stays one line.
   */
  private static String oneLine(String problem) {
    StringBuilder out = new StringBuilder(problem.length());
    for (char c : problem.toCharArray()) {
      if (breaksLine(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** A control character, or one of Unicode's line and paragraph separators. */
  static boolean breaksLine(int c) {
    return Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
  }

  /** The dotted path of the offending setting, e.g. {@code limits.sessions-per-user}. */
  public String key() {
    return key;
  }
}
