package dev.vxsocks.proxy.codec;

/** The ATYP byte (RFC 1928 §4, §5). Open: an unknown byte is a value the session answers with 0x08. */
public record AddressType(int code) {

  public static final AddressType IPV4 = new AddressType(0x01);
  public static final AddressType DOMAIN = new AddressType(0x03);
  public static final AddressType IPV6 = new AddressType(0x04);

  public static AddressType valueOf(int code) {
    switch (code & 0xFF) {
      case 0x01: return IPV4;
      case 0x03: return DOMAIN;
      case 0x04: return IPV6;
      default: return new AddressType(code & 0xFF);
    }
  }

  public boolean isKnown() {
    return code == 0x01 || code == 0x03 || code == 0x04;
  }

  @Override
  public String toString() {
    switch (code) {
      case 0x01: return "ipv4";
      case 0x03: return "domain";
      case 0x04: return "ipv6";
      default: return String.format("atyp-0x%02x", code);
    }
  }
}
