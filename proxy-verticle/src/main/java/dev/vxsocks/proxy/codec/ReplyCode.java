package dev.vxsocks.proxy.codec;

/** The REP byte of a reply (RFC 1928 §6). Closed: we only ever emit these. */
public enum ReplyCode {
  SUCCEEDED(0x00),
  GENERAL_FAILURE(0x01),
  NOT_ALLOWED(0x02),
  NETWORK_UNREACHABLE(0x03),
  HOST_UNREACHABLE(0x04),
  CONNECTION_REFUSED(0x05),
  TTL_EXPIRED(0x06),
  COMMAND_NOT_SUPPORTED(0x07),
  ADDRESS_TYPE_NOT_SUPPORTED(0x08);

  private final int code;

  ReplyCode(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** Lower-case words for logs: {@code succeeded}, {@code connection-refused}. */
  public String word() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
