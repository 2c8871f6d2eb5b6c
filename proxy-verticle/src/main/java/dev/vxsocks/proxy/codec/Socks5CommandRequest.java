package dev.vxsocks.proxy.codec;

/**
 * VER, CMD, RSV, ATYP, DST.ADDR, DST.PORT (RFC 1928 §4). {@code dstAddr} is the dotted/colon form of an IP address,
 * or the domain name as sent. {@code rsv} is kept so the session can log a non-zero one; it is otherwise ignored.
 */
public record Socks5CommandRequest(Command command, int rsv, AddressType dstAddrType, String dstAddr, int dstPort) {
}
