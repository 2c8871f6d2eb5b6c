package dev.vxsocks.proxy.codec;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.buffer.Buffer;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes {@link Socks5UdpPacket#decode} (docs/security/fuzzing.md) with any datagram. What must hold: it never throws;
 * it returns a packet exactly when RFC 1928 §7 read straight off the bytes says the header is complete and usable
 * (RSV zero, ATYP 1, 3 or 4, a name not empty), else a problem and no packet; a packet's header encodes
 * ({@link Socks5Wire}) back to the bytes it came from, its data is the rest of the datagram, and for an IP address and
 * FRAG 0 the relay's own {@link Socks5UdpPacket#encode} writes the same header too.
 */
class Socks5UdpPacketFuzzTest {

  @FuzzTest
  void datagram(byte[] datagram) throws UnknownHostException {
    Socks5UdpPacket.Decoded decoded = Socks5UdpPacket.decode(Buffer.buffer(datagram));
    int headerLength = usableHeaderLength(datagram);
    if (headerLength < 0) {
      assertThat(decoded.packet()).isNull();
      assertThat(decoded.problem()).isNotBlank();
      return;
    }
    assertThat(decoded.problem()).isNull();
    Socks5UdpPacket p = decoded.packet();
    assertThat(p.data().getBytes()).isEqualTo(Arrays.copyOfRange(datagram, headerLength, datagram.length));
    assertThat(Socks5Wire.udpDatagram(p)).isEqualTo(datagram);
    boolean ip = !p.dstAddrType().equals(AddressType.DOMAIN);
    if (ip && p.frag() == 0) {
      byte[] address = p.dstAddrType().equals(AddressType.IPV4) ? Socks5Wire.ipv4(p.dstAddr()) : Socks5Wire.ipv6(p.dstAddr());
      InetAddress a = InetAddress.getByAddress(address);
      // The relay writes an address as Java holds it: a mapped IPv6 one is an Inet4Address, written as ATYP 1.
      if (a instanceof Inet6Address || p.dstAddrType().equals(AddressType.IPV4)) {
        assertThat(Socks5UdpPacket.encode(a, p.dstPort(), p.data()).getBytes()).isEqualTo(datagram);
      }
    }
  }

  /** RFC 1928 §7 over the bytes: the header's length, or -1 if it is incomplete or unusable. */
  static int usableHeaderLength(byte[] d) {
    if (d.length < 4 || d[0] != 0 || d[1] != 0) {
      return -1;
    }
    int end;
    switch (d[3]) {
      case 1: end = 4 + 4; break;
      case 4: end = 4 + 16; break;
      case 3:
        if (d.length < 5 || d[4] == 0) {
          return -1;
        }
        end = 5 + (d[4] & 0xFF);
        break;
      default:
        return -1;
    }
    return d.length >= end + 2 ? end + 2 : -1;
  }
}
