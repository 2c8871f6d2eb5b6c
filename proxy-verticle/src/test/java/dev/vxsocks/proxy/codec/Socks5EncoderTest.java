package dev.vxsocks.proxy.codec;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;

import static dev.vxsocks.testing.Bytes.bytes;
import static org.assertj.core.api.Assertions.assertThat;

/** Exact bytes of every server message, against byte literals. Addresses are built from bytes: nothing resolves. */
class Socks5EncoderTest {

  private static InetAddress ip(int... octets) throws UnknownHostException {
    return InetAddress.getByAddress(bytes(octets));
  }

  private static byte[] of(Buffer b) {
    return b.getBytes();
  }

  @Test
  void methodSelection() {
    assertThat(of(Socks5Encoder.methodSelection(AuthMethod.NO_AUTH))).isEqualTo(bytes(0x05, 0x00));
    assertThat(of(Socks5Encoder.methodSelection(AuthMethod.GSSAPI))).isEqualTo(bytes(0x05, 0x01));
    assertThat(of(Socks5Encoder.methodSelection(AuthMethod.USERNAME_PASSWORD))).isEqualTo(bytes(0x05, 0x02));
    assertThat(of(Socks5Encoder.methodSelection(AuthMethod.NO_ACCEPTABLE_METHODS))).isEqualTo(bytes(0x05, 0xFF));
    assertThat(of(Socks5Encoder.methodSelection(AuthMethod.valueOf(0x80)))).isEqualTo(bytes(0x05, 0x80));
  }

  @Test
  void passwordStatus() {
    assertThat(of(Socks5Encoder.passwordStatus(true))).isEqualTo(bytes(0x01, 0x00));
    assertThat(of(Socks5Encoder.passwordStatus(false))).isEqualTo(bytes(0x01, 0x01));
  }

  @Test
  void replyWithIpv4() throws Exception {
    assertThat(of(Socks5Encoder.reply(ReplyCode.SUCCEEDED, ip(127, 0, 0, 1), 1080)))
        .isEqualTo(bytes(0x05, 0x00, 0x00, 0x01, 0x7F, 0x00, 0x00, 0x01, 0x04, 0x38));
    assertThat(of(Socks5Encoder.reply(ReplyCode.SUCCEEDED, ip(192, 168, 255, 254), 65535)))
        .isEqualTo(bytes(0x05, 0x00, 0x00, 0x01, 0xC0, 0xA8, 0xFF, 0xFE, 0xFF, 0xFF));
    assertThat(of(Socks5Encoder.reply(ReplyCode.SUCCEEDED, ip(10, 0, 0, 1), 32768)))
        .isEqualTo(bytes(0x05, 0x00, 0x00, 0x01, 0x0A, 0x00, 0x00, 0x01, 0x80, 0x00));
  }

  @Test
  void replyWithIpv6() throws Exception {
    InetAddress v6 = ip(0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01);
    assertThat(of(Socks5Encoder.reply(ReplyCode.SUCCEEDED, v6, 443))).isEqualTo(bytes(
        0x05, 0x00, 0x00, 0x04,
        0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0x01, 0xBB));
    InetAddress loopback6 = ip(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    assertThat(of(Socks5Encoder.reply(ReplyCode.SUCCEEDED, loopback6, 1)))
        .isEqualTo(bytes(0x05, 0x00, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x01));
  }

  @Test
  void replyWithNullAddressIsZeroIpv4AndPortZero() {
    byte[] expected = bytes(0x05, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
    assertThat(of(Socks5Encoder.reply(ReplyCode.CONNECTION_REFUSED, null, 0))).isEqualTo(expected);
    // The port means nothing without an address: it is zero as well.
    assertThat(of(Socks5Encoder.reply(ReplyCode.CONNECTION_REFUSED, null, 1234))).isEqualTo(expected);
    assertThat(of(Socks5Encoder.reply(ReplyCode.CONNECTION_REFUSED))).isEqualTo(expected);
  }

  @Test
  void everyReplyCodeHasItsRfcByte() {
    int[][] table = {
        {0x00}, {0x01}, {0x02}, {0x03}, {0x04}, {0x05}, {0x06}, {0x07}, {0x08}
    };
    ReplyCode[] codes = {
        ReplyCode.SUCCEEDED, ReplyCode.GENERAL_FAILURE, ReplyCode.NOT_ALLOWED, ReplyCode.NETWORK_UNREACHABLE,
        ReplyCode.HOST_UNREACHABLE, ReplyCode.CONNECTION_REFUSED, ReplyCode.TTL_EXPIRED,
        ReplyCode.COMMAND_NOT_SUPPORTED, ReplyCode.ADDRESS_TYPE_NOT_SUPPORTED
    };
    assertThat(ReplyCode.values()).hasSize(codes.length);
    for (int i = 0; i < codes.length; i++) {
      assertThat(of(Socks5Encoder.reply(codes[i])))
          .as("%s", codes[i])
          .isEqualTo(bytes(0x05, table[i][0], 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00));
    }
    assertThat(ReplyCode.CONNECTION_REFUSED.word()).isEqualTo("connection-refused");
    assertThat(ReplyCode.ADDRESS_TYPE_NOT_SUPPORTED.word()).isEqualTo("address-type-not-supported");
  }
}
