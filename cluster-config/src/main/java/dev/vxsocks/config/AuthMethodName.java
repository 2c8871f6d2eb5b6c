package dev.vxsocks.config;

/**
 * An authentication method as {@code auth.methods} names it ({@code none}, {@code gssapi}, {@code username-password}),
 * with its RFC 1928 §3 method byte: the one list the configuration, the negotiation step and the logs share.
 */
public enum AuthMethodName implements ConfigWord {
  NONE(0x00),
  /** RFC 1961: Kerberos through GSS-API, settings in {@code auth.gssapi}. */
  GSSAPI(0x01),
  USERNAME_PASSWORD(0x02);

  private final int code;

  AuthMethodName(int code) {
    this.code = code;
  }

  /** The METHOD byte a client offers and the server selects. */
  public int code() {
    return code;
  }

  /** The method {@code name} names (exactly, as the README writes it), or null. */
  public static AuthMethodName of(String name) {
    return ConfigWord.byWord(AuthMethodName.class, name);
  }

  @Override
  public String toString() {
    return configName();
  }
}
