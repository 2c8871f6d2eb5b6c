package dev.vxsocks.proxy;

import java.util.Locale;

/**
 * Where a session is, for its log lines ("client closed during auth", "handshake timeout in connect"). In the order a
 * session goes through them; a command uses only its own.
 */
public enum Phase {
  /** Accepted, nothing read yet. */
  ACCEPT,
  /** Waiting for a trusted balancer's PROXY protocol header. */
  PROXY_HEADER,
  /** The client's address against the client rules. */
  CLIENT_RULES,
  /** Waiting for the method offer (RFC 1928 §3). */
  GREETING,
  /** The chosen method's sub-negotiation (RFC 1929 username/password). */
  AUTH,
  /** Waiting for the request (RFC 1928 §4). */
  REQUEST,
  /** Resolving a CONNECT destination's name. */
  RESOLVE,
  /** The request against the request rules. */
  AUTHORIZE,
  /** Taking the session's slot under the per-user and per-address limits. */
  SESSION_LIMITS,
  /** Connecting to the destination. */
  CONNECT,
  /** BIND: listening, first reply sent, waiting for the peer. */
  BIND_WAIT,
  /** BIND: the peer connected, checking it against the rules. */
  BIND_ACCEPT,
  /** UDP ASSOCIATE: opening the relay sockets. */
  UDP_SETUP,
  /** UDP ASSOCIATE: relaying datagrams while the control connection lasts. */
  UDP_RELAY,
  /** Relaying a TCP stream (CONNECT, or BIND after the second reply). */
  RELAY;

  private final String text = name().toLowerCase(Locale.ROOT).replace('_', ' ');

  @Override
  public String toString() {
    return text;
  }
}
