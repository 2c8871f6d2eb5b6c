package dev.vxsocks.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A SOCKS5 command (RFC 1928 §4) as request rules, the auth verticle's messages and the session's log line name it,
 * with its CMD byte: one list instead of strings in three modules that must match.
 */
public enum CommandName {
  CONNECT("connect", 0x01),
  BIND("bind", 0x02),
  UDP_ASSOCIATE("udp-associate", 0x03);

  private final String configName;
  private final int code;

  CommandName(String configName, int code) {
    this.configName = configName;
    this.code = code;
  }

  public String configName() {
    return configName;
  }

  /** The CMD byte of a request. */
  public int code() {
    return code;
  }

  /** The command {@code name} (any case) names, or null. */
  public static CommandName of(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    for (CommandName c : values()) {
      if (c.configName.equals(n)) {
        return c;
      }
    }
    return null;
  }

  /** The command with CMD byte {@code code}, or null for a byte RFC 1928 does not define. */
  public static CommandName ofCode(int code) {
    for (CommandName c : values()) {
      if (c.code == code) {
        return c;
      }
    }
    return null;
  }

  /** "connect, bind, udp-associate": for error messages. */
  public static String known() {
    return Arrays.stream(values()).map(CommandName::configName).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return configName;
  }
}
