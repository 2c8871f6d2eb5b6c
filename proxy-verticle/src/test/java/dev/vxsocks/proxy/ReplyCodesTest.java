package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.AuthUnavailableException;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5Failure;
import dev.vxsocks.proxy.codec.Socks5ProtocolException;
import dev.vxsocks.proxy.codec.Socks5ProtocolException.Kind;
import io.netty.channel.ConnectTimeoutException;
import org.junit.jupiter.api.Test;

import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;

import static org.assertj.core.api.Assertions.assertThat;

/** One test per branch of the failure → reply mapping. */
class ReplyCodesTest {

  @Test
  void protocolErrors() {
    assertThat(ReplyCodes.of(new Socks5ProtocolException(Kind.UNSUPPORTED_COMMAND, "x"))).isEqualTo(ReplyCode.COMMAND_NOT_SUPPORTED);
    assertThat(ReplyCodes.of(new Socks5ProtocolException(Kind.UNSUPPORTED_ADDRESS_TYPE, "x"))).isEqualTo(ReplyCode.ADDRESS_TYPE_NOT_SUPPORTED);
    assertThat(ReplyCodes.of(new Socks5ProtocolException(Kind.EMPTY_DOMAIN, "x"))).isEqualTo(ReplyCode.HOST_UNREACHABLE);
    assertThat(ReplyCodes.of(new Socks5ProtocolException(Kind.BAD_VERSION, "x"))).isEqualTo(ReplyCode.GENERAL_FAILURE);
  }

  @Test
  void ruleOrLimitDenial() {
    assertThat(ReplyCodes.of(new RequestDeniedException(Verdict.deny(Verdict.DENIED, "rules.request[0]")))).isEqualTo(ReplyCode.NOT_ALLOWED);
    assertThat(ReplyCodes.of(new RequestDeniedException(Verdict.deny(Verdict.LIMIT, "limit")))).isEqualTo(ReplyCode.NOT_ALLOWED);
  }

  @Test
  void authVerticleUnavailable() {
    assertThat(ReplyCodes.of(new AuthUnavailableException("timeout", null))).isEqualTo(ReplyCode.GENERAL_FAILURE);
  }

  @Test
  void ownFailuresCarryTheirReply() {
    for (ReplyCode code : ReplyCode.values()) {
      if (code != ReplyCode.SUCCEEDED) {
        assertThat(ReplyCodes.of(new Socks5Failure(code, "x"))).isEqualTo(code);
      }
    }
  }

  @Test
  void connectTimeoutIsHostUnreachableNotRefused() {
    // A subclass of ConnectException: it must not fall into the "refused" branch.
    assertThat(new ConnectTimeoutException("t")).isInstanceOf(ConnectException.class);
    assertThat(ReplyCodes.of(new ConnectTimeoutException("connection timed out"))).isEqualTo(ReplyCode.HOST_UNREACHABLE);
  }

  @Test
  void refused() {
    assertThat(ReplyCodes.of(new ConnectException("Connection refused"))).isEqualTo(ReplyCode.CONNECTION_REFUSED);
  }

  @Test
  void noRouteToHost() {
    assertThat(ReplyCodes.of(new NoRouteToHostException())).isEqualTo(ReplyCode.HOST_UNREACHABLE);
  }

  @Test
  void networkUnreachable() {
    assertThat(ReplyCodes.of(new SocketException("Network is unreachable"))).isEqualTo(ReplyCode.NETWORK_UNREACHABLE);
    assertThat(ReplyCodes.of(new BindException("Cannot assign requested address"))).isEqualTo(ReplyCode.NETWORK_UNREACHABLE);
  }

  @Test
  void anythingElseIsGeneralFailure() {
    assertThat(ReplyCodes.of(new IllegalStateException("bug"))).isEqualTo(ReplyCode.GENERAL_FAILURE);
    assertThat(ReplyCodes.of(new java.io.IOException("other"))).isEqualTo(ReplyCode.GENERAL_FAILURE);
  }
}
