package dev.vxsocks.proxy.codec;

/**
 * Bytes that do not make a valid message. The decoder hands this to the session as a value (it never throws and
 * never writes); the session turns it into a reply through {@code ReplyCodes.of}. No stack trace: it describes the
 * peer's bytes, not our code.
 */
public final class Socks5ProtocolException extends RuntimeException {

  /** What was wrong. */
  public enum Kind {
    /** VER of a greeting or request is not 5: not a SOCKS5 client. */
    BAD_VERSION,
    /** VER of the RFC 1929 sub-negotiation is not 1. */
    BAD_AUTH_VERSION,
    /** CMD is not CONNECT, BIND or UDP ASSOCIATE. */
    UNSUPPORTED_COMMAND,
    /** ATYP is not 1, 3 or 4. */
    UNSUPPORTED_ADDRESS_TYPE,
    /** ATYP 3 with a zero-length name. */
    EMPTY_DOMAIN
  }

  private final Kind kind;

  public Socks5ProtocolException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
