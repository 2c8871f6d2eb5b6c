package dev.vxsocks.proxy.gssapi;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The session's user for an authenticated Kerberos principal, the way MIT's default {@code auth_to_local} rule maps
 * a principal to a local account: a principal of one component in one of {@code auth.gssapi.realms} becomes that
 * component ({@code alice@EXAMPLE.COM} is {@code alice}); any other ({@code alice@PARTNER.ORG},
 * {@code alice/admin@EXAMPLE.COM}, {@code HTTP/web@EXAMPLE.COM}) is refused, or kept whole as the user name with
 * {@code auth.gssapi.other-principals: keep}. The user is what rules, limits, revocation and the log see.
 */
public final class PrincipalNames {

  /** As for RFC 1929 names and {@code users[].name}. */
  static final int MAX_USER_BYTES = 255;

  private PrincipalNames() {
  }

  /** The user {@code principal} (as GSS-API displays it: {@code name[/instance]@REALM}) maps to, or null: refused. */
  public static String toUser(String principal, Set<String> realms, boolean keepOthers) {
    if (principal == null || principal.isEmpty()) {
      return null;
    }
    List<String> components = new ArrayList<>(2);
    StringBuilder current = new StringBuilder();
    String realm = null;
    boolean escaped = false;
    for (int i = 0; i < principal.length(); i++) {
      char c = principal.charAt(i);
      if (escaped) {
        current.append(c);
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (realm == null && c == '/') {
        components.add(current.toString());
        current.setLength(0);
      } else if (realm == null && c == '@') {
        components.add(current.toString());
        current.setLength(0);
        realm = "";
      } else {
        current.append(c);
      }
    }
    if (realm != null) {
      realm = current.toString();
    } else {
      components.add(current.toString());
    }
    String user;
    if (components.size() == 1 && realm != null && realms.contains(realm) && !components.get(0).isEmpty()) {
      user = components.get(0);
    } else if (keepOthers) {
      user = principal;
    } else {
      return null;
    }
    return user.getBytes(StandardCharsets.UTF_8).length <= MAX_USER_BYTES ? user : null;
  }
}
