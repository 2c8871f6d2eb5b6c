package dev.vxsocks.proxy.codec;

import dev.vxsocks.config.CommandName;

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
    return name() != null;
  }

  /** The command as rules and logs name it, or null for a byte RFC 1928 does not define. */
  public CommandName name() {
    return CommandName.ofCode(code);
  }

  /** {@code connect}, {@code bind}, {@code udp-associate}; {@code cmd-0x09} for an unknown byte. */
  @Override
  public String toString() {
    CommandName name = name();
    return name != null ? name.configName() : String.format("cmd-0x%02x", code);
  }
}
