package dev.vxsocks.config;

/**
 * A configuration value that cannot be used. The message always names the key (as a dotted path, or the environment
 * variable / system property it came from) and what is wrong with it, in one line, so the launcher can print it and
 * exit without a stack trace.
 */
public final class ConfigException extends RuntimeException {

  private final String key;

  public ConfigException(String key, String problem) {
    super(key + ": " + problem, null, false, false);
    this.key = key;
  }

  /** The dotted path of the offending setting, e.g. {@code limits.sessions-per-user}. */
  public String key() {
    return key;
  }
}
