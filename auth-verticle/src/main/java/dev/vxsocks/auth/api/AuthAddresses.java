package dev.vxsocks.auth.api;

/**
 * Event-bus addresses of the auth verticle, versioned so a rolling upgrade can run two contract versions side by
 * side. Bodies are JSON objects (see the request and {@link Verdict} types in this package). The auth verticle
 * registers these as local consumers: a node's proxy always asks its own auth verticle, and a password never
 * crosses the cluster.
 */
public final class AuthAddresses {

  private static final String PREFIX = "socks5.auth.v1.";

  /** Client rules on the source address, before the proxy reads a byte. */
  public static final String CLIENT = PREFIX + "client";
  /** RFC 1929 username/password check. */
  public static final String AUTHENTICATE = PREFIX + "authenticate";
  /**
   * Whether a user authenticated elsewhere (GSS-API: the KDC vouched for the principal) may use the proxy: refused
   * ({@code disabled}) when {@code users} lists the name with {@code enabled: false}, allowed otherwise, listed or not.
   */
  public static final String USER_CHECK = PREFIX + "user.check";
  /**
   * Request rules on (client, user, command, destination). With {@link #OPEN_SESSION} {@code true} in the body, an
   * allowed request also takes its session slot, as {@link #SESSION_OPEN} would: one round trip instead of two.
   */
  public static final String AUTHORIZE = PREFIX + "authorize";
  /** Boolean field of an {@link #AUTHORIZE} body. */
  public static final String OPEN_SESSION = "open-session";
  /** Take a session slot (per-user and per-client-IP limits); the verdict carries the lease to return. */
  public static final String SESSION_OPEN = PREFIX + "session.open";
  /** {@code kind} of a {@link #SESSION_OPEN} that counts UDP associations instead of sessions. */
  public static final String KIND_UDP_ASSOCIATION = "udp-association";
  /** Give a lease back; fire-and-forget. */
  public static final String SESSION_CLOSE = PREFIX + "session.close";
  /**
   * Published (local only) by the auth verticle with a user name as a plain string body when that user was disabled,
   * removed or given a new password: the connection verticles close that user's live sessions on this node. Every node
   * publishes it for its own sessions, so a change made anywhere in the cluster reaches every node.
   */
  public static final String USER_REVOKED = PREFIX + "user.revoked";

  private AuthAddresses() {
  }
}
