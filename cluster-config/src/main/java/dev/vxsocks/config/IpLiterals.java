package dev.vxsocks.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Parses IP address literals without ever asking DNS ({@link InetAddress#getByName} resolves anything that is not a
 * literal, which on a proxy would be a blocking call and a leak of names to the resolver).
 */
public final class IpLiterals {

  /**
   * Only text that {@link InetAddress#getByName} treats as a literal (it starts with a hex digit, ':' or '[') may reach
   * it: anything else, such as ".a:b", would be sent to the resolver.
   */
  private static final Pattern IPV6 = Pattern.compile("\\[?[0-9A-Fa-f:][0-9A-Fa-f:.]*(%[\\w.-]+)?]?");

  private IpLiterals() {
  }

  /** {@code host:port}, with an IPv6 literal in brackets ({@code [::1]:1080}), as logs and URLs write it. */
  public static String hostPort(String host, int port) {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }

  /** The address the literal names, or {@code null} when {@code text} is not an IPv4 or IPv6 literal. */
  public static InetAddress parse(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    byte[] quad = dottedQuad(text);
    if (quad != null) {
      try {
        return InetAddress.getByAddress(quad);
      } catch (UnknownHostException e) {
        throw new IllegalStateException("four bytes are always an IPv4 address", e);
      }
    }
    if (text.indexOf(':') < 0 || !IPV6.matcher(text).matches()) {
      return null;
    }
    String literal = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException | SecurityException e) {
      return null;
    }
  }

  /**
   * The four bytes of a dotted-quad IPv4 literal (four decimal parts of 1 to 3 digits, each at most 255), or null.
   * Parsed by hand: it runs for every proxied request, where a regular expression and a split showed up in the
   * allocation profile.
   */
  private static byte[] dottedQuad(String text) {
    byte[] out = new byte[4];
    int part = 0;
    int value = 0;
    int digits = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= '0' && c <= '9') {
        value = value * 10 + (c - '0');
        if (++digits > 3 || value > 255) {
          return null;
        }
      } else if (c == '.' && digits > 0 && part < 3) {
        out[part++] = (byte) value;
        value = 0;
        digits = 0;
      } else {
        return null;
      }
    }
    if (part != 3 || digits == 0) {
      return null;
    }
    out[3] = (byte) value;
    return out;
  }
}
