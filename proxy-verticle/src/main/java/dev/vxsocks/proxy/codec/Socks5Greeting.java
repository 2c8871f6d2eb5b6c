package dev.vxsocks.proxy.codec;

import java.util.List;

/** VER, NMETHODS, METHODS (RFC 1928 §3). {@code methods} may be empty (NMETHODS = 0). */
public record Socks5Greeting(List<AuthMethod> methods) {
}
