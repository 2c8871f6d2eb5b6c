package dev.vxsocks.proxy.codec;

/**
 * An authentication method byte (RFC 1928 §3). Open: a byte a client sends that we do not know is still a value.
 */
public record AuthMethod(int code) {

  public static final AuthMethod NO_AUTH = new AuthMethod(0x00);
  public static final AuthMethod GSSAPI = new AuthMethod(0x01);
  public static final AuthMethod USERNAME_PASSWORD = new AuthMethod(0x02);
  public static final AuthMethod NO_ACCEPTABLE_METHODS = new AuthMethod(0xFF);

  public static AuthMethod valueOf(int code) {
    switch (code & 0xFF) {
      case 0x00: return NO_AUTH;
      case 0x01: return GSSAPI;
      case 0x02: return USERNAME_PASSWORD;
      case 0xFF: return NO_ACCEPTABLE_METHODS;
      default: return new AuthMethod(code & 0xFF);
    }
  }

  @Override
  public String toString() {
    switch (code) {
      case 0x00: return "no-auth";
      case 0x01: return "gssapi";
      case 0x02: return "username-password";
      case 0xFF: return "no-acceptable-methods";
      default: return String.format("method-0x%02x", code);
    }
  }
}
