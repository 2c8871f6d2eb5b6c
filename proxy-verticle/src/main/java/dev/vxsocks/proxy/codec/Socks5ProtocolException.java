package dev.vxsocks.proxy.codec;

/**
 * Bytes that do not make a valid message. The decoder hands this to the session as a value (it never throws and
 * never writes); the reply it gets follows from its {@link Kind}. No stack trace: it describes the peer's bytes, not
 * our code.
 */
public final class Socks5ProtocolException extends Socks5Failure {

  /** What was wrong, and the reply each gets. */
  public enum Kind {
    /** VER of a greeting or request is not 5: not a SOCKS5 client (a greeting gets no reply at all). */
    BAD_VERSION(ReplyCode.GENERAL_FAILURE),
    /** VER of the RFC 1929 sub-negotiation is not 1 (answered with a failed status, not a reply). */
    BAD_AUTH_VERSION(ReplyCode.GENERAL_FAILURE),
    /**
     * The RFC 1929 user name or password is not well-formed UTF-8 (answered with a failed status). Every user name and
     * password hash in the configuration comes from text, so such bytes can match no user; refusing them, rather than
     * reading them with replacement characters, keeps two different byte strings from ever reading as one password.
     */
    BAD_AUTH_ENCODING(ReplyCode.GENERAL_FAILURE),
    /** CMD is not CONNECT, BIND or UDP ASSOCIATE. */
    UNSUPPORTED_COMMAND(ReplyCode.COMMAND_NOT_SUPPORTED),
    /** ATYP is not 1, 3 or 4. */
    UNSUPPORTED_ADDRESS_TYPE(ReplyCode.ADDRESS_TYPE_NOT_SUPPORTED),
    /** ATYP 3 with a zero-length name: no name resolves, so the same answer as for one that does not. */
    EMPTY_DOMAIN(ReplyCode.HOST_UNREACHABLE);

    private final ReplyCode reply;

    Kind(ReplyCode reply) {
      this.reply = reply;
    }
  }

  private final Kind kind;

  public Socks5ProtocolException(Kind kind, String message) {
    super(kind.reply, message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
