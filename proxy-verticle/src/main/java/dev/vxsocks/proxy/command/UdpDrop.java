package dev.vxsocks.proxy.command;

import java.util.Locale;

/** Why a UDP association dropped a datagram: the counters of its summary line ({@code dropped_foreign_source=3}). */
public enum UdpDrop {
  /** From an address other than the client's (or than the DST.ADDR/DST.PORT it announced). */
  FOREIGN_SOURCE,
  /** A header that does not parse (RFC 1928 §7). */
  MALFORMED,
  /** FRAG ≠ 0: reassembly is optional in §7 and not done. */
  FRAGMENTED,
  /** A destination name that does not resolve. */
  UNRESOLVED,
  /** A destination the request rules refuse. */
  DENIED,
  /** The socket refused the send, or the outbound socket could not be opened. */
  SEND_FAILED,
  /** From a destination the client has not sent to. */
  UNSOLICITED,
  /** An answer before the client sent its first datagram: nowhere to send it. */
  NO_CLIENT_YET;

  private final String field = "dropped_" + name().toLowerCase(Locale.ROOT);

  /** The summary line's field name. */
  public String field() {
    return field;
  }
}
