package dev.vxsocks.proxy.codec;

/** VER, ULEN, UNAME, PLEN, PASSWD (RFC 1929 §2). Either field may be empty (ULEN or PLEN 0). */
public record Socks5PasswordRequest(String username, String password) {

  /** Never shows the password. */
  @Override
  public String toString() {
    return "Socks5PasswordRequest[username=" + username + ", password=<" + password.length() + " chars>]";
  }
}
