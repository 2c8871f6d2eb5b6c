package dev.vxsocks.proxy.command;

import io.vertx.core.buffer.Buffer;

/**
 * UDP datagrams under a GSS-API protection level (RFC 1961 §5): each datagram between the client and the relay is
 * one MTYP 3 message whose token wraps the whole SOCKS UDP packet (header and data).
 */
public interface DatagramProtection {

  /** The SOCKS UDP packet a client's datagram carries; throws when it is not a message that verifies. */
  Buffer unwrapDatagram(Buffer datagram) throws Exception;

  /** The datagram carrying {@code packet} to the client. */
  Buffer wrapDatagram(Buffer packet) throws Exception;
}
