package dev.vxsocks.proxy.codec;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** The one address codec: what {@link Socks5Address#append} writes, {@link Socks5Address#text} reads back. */
class Socks5AddressTest {

  @Test
  void ipAddressesRoundTrip() throws Exception {
    for (String ip : new String[] {"127.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "2001:db8::a:b0c"}) {
      InetAddress a = InetAddress.getByName(ip);
      Buffer out = Socks5Address.append(Buffer.buffer(), a, 54321);
      assertThat(out.length()).isEqualTo(Socks5Address.encodedLength(a));
      AddressType type = AddressType.valueOf(out.getUnsignedByte(0));
      int len = Socks5Address.fixedLength(type);
      assertThat(len).isEqualTo(a.getAddress().length);
      assertThat(InetAddress.getByName(Socks5Address.text(type, out, 1, 1 + len))).isEqualTo(a);
      assertThat(out.getUnsignedShort(1 + len)).isEqualTo(54321);
    }
  }

  @Test
  void noAddressIsZeroIpv4AndPortZero() {
    Buffer out = Socks5Address.append(Buffer.buffer(), null, 1080);
    assertThat(out.getBytes()).containsExactly(1, 0, 0, 0, 0, 0, 0);
  }

  @Test
  void aDomainIsReadByteForByte() {
    Buffer name = Buffer.buffer(new byte[] {'a', (byte) 0xE9, '.', 't'});
    assertThat(Socks5Address.fixedLength(AddressType.DOMAIN)).isZero();
    assertThat(Socks5Address.text(AddressType.DOMAIN, name, 0, 4)).isEqualTo("a\u00e9.t");
  }

  @Test
  void unknownTypesHaveNoLength() {
    assertThat(Socks5Address.fixedLength(AddressType.valueOf(2))).isNegative();
    assertThat(Socks5Address.fixedLength(AddressType.valueOf(9))).isNegative();
  }
}
