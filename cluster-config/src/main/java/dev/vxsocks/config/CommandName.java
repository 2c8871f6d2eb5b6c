package dev.vxsocks.config;

import java.util.Locale;

/**
 * A SOCKS5 command (RFC 1928 §4) as request rules, the auth verticle's messages and the session's log line name it
 * ({@code connect}, {@code bind}, {@code udp-associate}), with its CMD byte: one list instead of strings in three
 * modules that must match.
 */
public enum CommandName implements ConfigWord {
  CONNECT,
  BIND,
  UDP_ASSOCIATE;

  /** The CMD byte of a request: 1, 2, 3 in the order of RFC 1928 §4. */
  public int code() {
    return ordinal() + 1;
  }

  /** The command {@code name} (any case, as rules have always accepted) names, or null. */
  public static CommandName of(String name) {
    return ConfigWord.byWord(CommandName.class, name.toLowerCase(Locale.ROOT));
  }

  /** The command with CMD byte {@code code}, or null for a byte RFC 1928 does not define. */
  public static CommandName ofCode(int code) {
    return code >= 1 && code <= values().length ? values()[code - 1] : null;
  }

  @Override
  public String toString() {
    return configName();
  }
}
