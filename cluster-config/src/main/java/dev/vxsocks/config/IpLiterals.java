package dev.vxsocks.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Parses IP address literals without ever asking DNS ({@link InetAddress#getByName} resolves anything that is not a
 * literal, which on a proxy would be a blocking call and a leak of names to the resolver).
 */
public final class IpLiterals {

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  /**
   * Only text that {@link InetAddress#getByName} treats as a literal (it starts with a hex digit, ':' or '[') may reach
   * it: anything else, such as ".a:b", would be sent to the resolver.
   */
  private static final Pattern IPV6 = Pattern.compile("\\[?[0-9A-Fa-f:][0-9A-Fa-f:.]*(%[\\w.-]+)?]?");

  private IpLiterals() {
  }

  /** The address the literal names, or {@code null} when {@code text} is not an IPv4 or IPv6 literal. */
  public static InetAddress parse(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    if (IPV4.matcher(text).matches()) {
      for (String part : text.split("\\.")) {
        if (Integer.parseInt(part) > 255) {
          return null;
        }
      }
    } else if (!IPV6.matcher(text).matches() || text.indexOf(':') < 0) {
      return null;
    }
    String literal = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException | SecurityException e) {
      return null;
    }
  }
}
