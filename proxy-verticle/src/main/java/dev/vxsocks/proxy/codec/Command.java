package dev.vxsocks.proxy.codec;

/** The CMD byte of a request (RFC 1928 §4). Open: an unknown byte is a value the session answers with 0x07. */
public record Command(int code) {

  public static final Command CONNECT = new Command(0x01);
  public static final Command BIND = new Command(0x02);
  public static final Command UDP_ASSOCIATE = new Command(0x03);

  public static Command valueOf(int code) {
    switch (code & 0xFF) {
      case 0x01: return CONNECT;
      case 0x02: return BIND;
      case 0x03: return UDP_ASSOCIATE;
      default: return new Command(code & 0xFF);
    }
  }

  public boolean isKnown() {
    return code >= 0x01 && code <= 0x03;
  }

  /** The name rules use: {@code connect}, {@code bind}, {@code udp-associate}. */
  @Override
  public String toString() {
    switch (code) {
      case 0x01: return "connect";
      case 0x02: return "bind";
      case 0x03: return "udp-associate";
      default: return String.format("cmd-0x%02x", code);
    }
  }
}
