package dev.vxsocks.proxy.command;

import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5Failure;

/**
 * Every port of {@code bind.ports} / {@code udp.ports} is held by another session or taken by another program. A
 * node-side shortage, not the client's fault nor the destination's: the reply is {@code 0x01} (general failure),
 * which tells a client behind a balancer that another attempt, maybe on another node, may work.
 */
final class NoFreePortException extends Socks5Failure {

  NoFreePortException(String message) {
    super(ReplyCode.GENERAL_FAILURE, message);
  }
}
