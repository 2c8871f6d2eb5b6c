package dev.vxsocks.config;

import java.util.Locale;

/**
 * A destination host name: exact ({@code localhost}) or a domain suffix ({@code .example.com} or
 * {@code *.example.com}, which match {@code example.com} and every name below it), or {@code *} for any name.
 * Names compare case-insensitively
 * and without a trailing dot.
 */
public final class HostPattern {

  private final String name;
  private final boolean suffix;

  private HostPattern(String name, boolean suffix) {
    this.name = name;
    this.suffix = suffix;
  }

  public static HostPattern parse(String key, String text) {
    String t = normalize(text);
    if (t.equals("*")) {
      return new HostPattern("", true);
    }
    boolean suffix = false;
    if (t.startsWith("*.")) {
      t = t.substring(2);
      suffix = true;
    } else if (t.startsWith(".")) {
      t = t.substring(1);
      suffix = true;
    }
    if (t.isEmpty() || !t.matches("[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")) {
      throw new ConfigException(key, "'" + text + "' is neither an address block nor a host name or .domain suffix");
    }
    return new HostPattern(t, suffix);
  }

  public static String normalize(String host) {
    String h = host.trim().toLowerCase(Locale.ROOT);
    return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
  }

  /** {@code host} must already be {@link #normalize normalized}. */
  public boolean matches(String host) {
    if (!suffix) {
      return host.equals(name);
    }
    if (name.isEmpty()) {
      return true;
    }
    return host.equals(name) || (host.endsWith(name) && host.charAt(host.length() - name.length() - 1) == '.');
  }

  /** The pattern {@code *}. */
  public boolean isAny() {
    return suffix && name.isEmpty();
  }

  /** An exact name counts as naming its addresses explicitly; a suffix does not (any name below it may point anywhere). */
  public boolean isExact() {
    return !suffix;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HostPattern && ((HostPattern) o).suffix == suffix && ((HostPattern) o).name.equals(name);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 2 + (suffix ? 1 : 0);
  }

  @Override
  public String toString() {
    return suffix ? (name.isEmpty() ? "*" : "." + name) : name;
  }
}
