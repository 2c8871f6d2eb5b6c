package dev.vxsocks.config;

/**
 * A per-message protection level of RFC 1961 §4 as {@code auth.gssapi.protection} names it, with the level octet of
 * the protection-level sub-negotiation. {@code none} (octet 0) is not one of the RFC's levels: it is what curl and
 * the NEC reference implementation ask for, the stream carried as it is once the user is authenticated.
 */
public enum GssapiProtection implements ConfigWord {
  NONE(0),
  INTEGRITY(1),
  CONFIDENTIALITY(2);

  private final int level;

  GssapiProtection(int level) {
    this.level = level;
  }

  /** The octet the protection-level message carries. */
  public int level() {
    return level;
  }

  /** The level {@code name} names (exactly), or null. */
  public static GssapiProtection of(String name) {
    return ConfigWord.byWord(GssapiProtection.class, name);
  }

  @Override
  public String toString() {
    return configName();
  }
}
