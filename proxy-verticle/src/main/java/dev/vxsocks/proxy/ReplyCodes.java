package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.AuthUnavailableException;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5Failure;
import io.netty.channel.ConnectTimeoutException;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;

/**
 * The reply code (RFC 1928 §6) for a failure. Our own failures carry theirs ({@link Socks5Failure}, made where the
 * cause is known); this maps only what comes from outside: the JDK's and Netty's exceptions from an upstream connect,
 * and the auth verticle being unreachable. Each branch has a test.
 */
public final class ReplyCodes {

  private ReplyCodes() {
  }

  public static ReplyCode of(Throwable failure) {
    if (failure instanceof Socks5Failure own) {
      return own.reply();
    }
    if (failure instanceof AuthUnavailableException) {
      // Infrastructure failure, not a denial: 0x01 tells a client behind a balancer that trying again may work.
      return ReplyCode.GENERAL_FAILURE;
    }
    // Before ConnectException: Netty's connect timeout is a subclass of it. The host did not answer within
    // timeouts.connect; 0x04 says so (0x06 "TTL expired" is about IP hop limits, which we cannot observe).
    if (failure instanceof ConnectTimeoutException) {
      return ReplyCode.HOST_UNREACHABLE;
    }
    if (failure instanceof ConnectException) {
      return ReplyCode.CONNECTION_REFUSED;
    }
    // EHOSTUNREACH (both transports) and ENETUNREACH (epoll reports it as no route too).
    if (failure instanceof NoRouteToHostException) {
      return ReplyCode.HOST_UNREACHABLE;
    }
    // The JDK's NIO transport reports ENETUNREACH as a plain SocketException; other socket errors on connect
    // (EADDRNOTAVAIL, EACCES ...) are network-side problems too.
    if (failure instanceof SocketException) {
      return ReplyCode.NETWORK_UNREACHABLE;
    }
    return ReplyCode.GENERAL_FAILURE;
  }
}
