package dev.vxsocks.proxy.gssapi;

import dev.vxsocks.config.GssapiProtection;

import java.util.List;

/**
 * The protection level the server answers in the sub-negotiation of RFC 1961 §4, which "may or may not take the
 * client's request into account": the level the client asked for when {@code auth.gssapi.protection} lists it,
 * otherwise the first level listed (the server's preference); a client that finds the answer unacceptable closes.
 * Level 3, "selective", is granted when both integrity and confidentiality are listed (each side then decides per
 * message; this server always encrypts what it sends), otherwise the one of them that is listed.
 */
public final class ProtectionLevels {

  public static final int NONE = 0;
  public static final int INTEGRITY = 1;
  public static final int CONFIDENTIALITY = 2;
  public static final int SELECTIVE = 3;

  private ProtectionLevels() {
  }

  /** The level to grant for {@code requested}, or -1 when the octet is not a level at all (the client is refused). */
  public static int choose(int requested, List<GssapiProtection> allowed) {
    boolean integrity = allowed.contains(GssapiProtection.INTEGRITY);
    boolean confidentiality = allowed.contains(GssapiProtection.CONFIDENTIALITY);
    switch (requested) {
      case NONE:
      case INTEGRITY:
      case CONFIDENTIALITY:
        for (GssapiProtection p : allowed) {
          if (p.level() == requested) {
            return requested;
          }
        }
        return allowed.get(0).level();
      case SELECTIVE:
        if (integrity && confidentiality) {
          return SELECTIVE;
        }
        return integrity ? INTEGRITY : confidentiality ? CONFIDENTIALITY : allowed.get(0).level();
      default:
        return -1;
    }
  }

  /** For logs: {@code none}, {@code integrity}, {@code confidentiality}, {@code selective}. */
  public static String word(int level) {
    switch (level) {
      case NONE: return "none";
      case INTEGRITY: return "integrity";
      case CONFIDENTIALITY: return "confidentiality";
      case SELECTIVE: return "selective";
      default: return "level-" + level;
    }
  }
}
