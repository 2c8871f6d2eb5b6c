package dev.vxsocks.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * An authentication method as {@code auth.methods} names it, with its RFC 1928 §3 method byte: the one list the
 * configuration, the negotiation step and the logs share.
 */
public enum AuthMethodName {
  NONE("none", 0x00),
  USERNAME_PASSWORD("username-password", 0x02);

  private final String configName;
  private final int code;

  AuthMethodName(String configName, int code) {
    this.configName = configName;
    this.code = code;
  }

  /** The word in {@code auth.methods} and in log lines. */
  public String configName() {
    return configName;
  }

  /** The METHOD byte a client offers and the server selects. */
  public int code() {
    return code;
  }

  /** The method {@code name} names (exactly, as the README writes it), or null. */
  public static AuthMethodName of(String name) {
    for (AuthMethodName m : values()) {
      if (m.configName.equals(name)) {
        return m;
      }
    }
    return null;
  }

  /** "none, username-password": for error messages. */
  public static String known() {
    return Arrays.stream(values()).map(AuthMethodName::configName).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return configName;
  }
}
