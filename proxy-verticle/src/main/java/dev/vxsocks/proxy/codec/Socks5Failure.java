package dev.vxsocks.proxy.codec;

/**
 * Why a session cannot go on, with the reply (RFC 1928 §6) the client gets for it. Made where the cause is known (a
 * rule, a full port range, a peer that never came, bytes that are not SOCKS5), so nothing downstream has to guess the
 * code from an exception type; {@code ReplyCodes} maps only foreign exceptions (the JDK's and Netty's) at the edge.
 * The message goes to the session's summary line. No stack trace: these describe the situation, not our code.
 */
public class Socks5Failure extends RuntimeException {

  private final ReplyCode reply;

  public Socks5Failure(ReplyCode reply, String message) {
    super(message, null, false, false);
    if (reply == ReplyCode.SUCCEEDED) {
      throw new IllegalArgumentException("a failure cannot reply 'succeeded'");
    }
    this.reply = reply;
  }

  /** The reply the client gets. */
  public ReplyCode reply() {
    return reply;
  }
}
