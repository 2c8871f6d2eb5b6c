package dev.vxsocks.config;

/** A port or an inclusive range of ports: {@code 443}, {@code 1024-65535}. */
public final class PortRange {

  private final int low;
  private final int high;

  private PortRange(int low, int high) {
    this.low = low;
    this.high = high;
  }

  public static PortRange parse(String key, String text) {
    String[] parts = text.split("-", -1);
    try {
      if (parts.length == 1) {
        int p = port(parts[0]);
        return new PortRange(p, p);
      }
      if (parts.length == 2) {
        int lo = port(parts[0]);
        int hi = port(parts[1]);
        if (lo <= hi) {
          return new PortRange(lo, hi);
        }
      }
    } catch (NumberFormatException ignored) {
      // fall through to the error below
    }
    throw new ConfigException(key, "'" + text + "' is not a port (0-65535) or a range such as 1024-65535");
  }

  private static int port(String s) {
    int p = Integer.parseInt(s.trim());
    if (p < 0 || p > 65535) {
      throw new NumberFormatException();
    }
    return p;
  }

  public int low() {
    return low;
  }

  public int high() {
    return high;
  }

  public boolean contains(int port) {
    return port >= low && port <= high;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PortRange && ((PortRange) o).low == low && ((PortRange) o).high == high;
  }

  @Override
  public int hashCode() {
    return low * 65537 + high;
  }

  @Override
  public String toString() {
    return low == high ? Integer.toString(low) : low + "-" + high;
  }
}
