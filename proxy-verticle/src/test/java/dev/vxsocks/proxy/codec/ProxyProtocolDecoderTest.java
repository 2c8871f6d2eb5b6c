package dev.vxsocks.proxy.codec;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static dev.vxsocks.testing.Bytes.bytes;
import static dev.vxsocks.testing.Bytes.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Fixtures written out by hand from HAProxy's doc/proxy-protocol.txt (v1 lines as string literals, v2 headers byte by
 * byte), each followed by a SOCKS5 greeting and fed whole, split into two buffers at every index, and one byte at a
 * time. For every chunking the test checks the outcome, that it comes during the feed holding the byte that decides
 * it (the header's last byte, or the first byte proving it invalid), that the bytes after the header reach SOCKS5
 * exactly, and that the decoder never holds more than 107 bytes.
 */
class ProxyProtocolDecoderTest {

  // ---------------------------------------------------------------------------------------------------------------
  // Fixtures.

  /** What follows every header: VER 5, NMETHODS 1, NO AUTH. */
  private static final byte[] GREETING = bytes(0x05, 0x01, 0x00);

  /** §2.2: the v2 signature, CR LF CR LF NUL CR LF "QUIT" LF. */
  private static final byte[] SIG = bytes(0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A);

  /** §2.1's own example. */
  private static final String V1_TCP4 = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
  /** §2.1's longest TCP4 line, 56 bytes. */
  private static final String V1_TCP4_MAX = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
  /** §2.1's longest TCP6 line, 104 bytes. */
  private static final String V1_TCP6_MAX = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      + "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  /** §2.1's worst case, 107 bytes: the longest line a receiver must accept. */
  private static final String V1_UNKNOWN_MAX = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      + "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  /** The same with one more digit: 108 bytes, CRLF at 107-108. */
  private static final String V1_UNKNOWN_108 = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      + "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655350\r\n";
  /** 108 bytes and no CRLF at all. */
  private static final String V1_NO_CRLF_108 = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      + "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535123";

  /** PROXY, AF_INET STREAM, 192.0.2.1:56316 -> 198.51.100.7:1080. */
  private static final byte[] V2_INET = concat(SIG, bytes(
      0x21,                   // version 2, PROXY
      0x11,                   // AF_INET, STREAM
      0x00, 0x0C,             // 12 bytes follow
      0xC0, 0x00, 0x02, 0x01, // 192.0.2.1
      0xC6, 0x33, 0x64, 0x07, // 198.51.100.7
      0xDB, 0xFC,             // 56316
      0x04, 0x38));           // 1080

  /** As an AWS NLB sends it: the same addresses, then TLV 0xEA (PP2_TYPE_AWS), subtype 0x01, the VPC endpoint id. */
  private static final byte[] V2_INET_AWS = concat(SIG, bytes(
      0x21, 0x11,
      0x00, 0x26,             // 38 = 12 + 3 + 23
      0xC0, 0x00, 0x02, 0x01,
      0xC6, 0x33, 0x64, 0x07,
      0xDB, 0xFC,
      0x04, 0x38,
      0xEA, 0x00, 0x17,       // type 0xEA, 23 bytes
      0x01,                   // PP2_SUBTYPE_AWS_VPCE_ID
      'v', 'p', 'c', 'e', '-', '0', '8', 'd', '2', 'b', 'f', '1', '5', 'f', 'a', 'c', '5', '0', '0', '1', 'c', '9'));

  /** 255.255.255.255:65535 -> 0.0.0.0:0 (high bits: read unsigned), then a CRC32C TLV (not checked) and an empty NOOP. */
  private static final byte[] V2_INET_HIGH_CRC = concat(SIG, bytes(
      0x21, 0x11,
      0x00, 0x16,             // 22 = 12 + 7 + 3
      0xFF, 0xFF, 0xFF, 0xFF,
      0x00, 0x00, 0x00, 0x00,
      0xFF, 0xFF,
      0x00, 0x00,
      0x03, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF, // PP2_TYPE_CRC32C, a value we do not verify
      0x04, 0x00, 0x00));                      // PP2_TYPE_NOOP, empty

  /** PROXY, AF_INET6 STREAM, [2001:db8::1]:443 -> [2001:db8::2]:1080. */
  private static final byte[] V2_INET6 = concat(SIG, bytes(
      0x21, 0x21,
      0x00, 0x24,             // 36
      0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
      0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
      0x01, 0xBB,
      0x04, 0x38));

  /** The same, then PP2_TYPE_ALPN "h2" and PP2_TYPE_AUTHORITY "example.com", as HAProxy may send. */
  private static final byte[] V2_INET6_TLVS = concat(SIG, bytes(
      0x21, 0x21,
      0x00, 0x37,             // 55 = 36 + 5 + 14
      0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
      0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
      0x01, 0xBB,
      0x04, 0x38,
      0x01, 0x00, 0x02, 'h', '2',
      0x02, 0x00, 0x0B, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'));

  /** PROXY, AF_INET6: [::ffff:192.0.2.1]:1 -> [::ffff:10.0.0.1]:2, IPv4-mapped (Java makes them Inet4Address). */
  private static final byte[] V2_INET6_MAPPED = concat(SIG, bytes(
      0x21, 0x21,
      0x00, 0x24,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xC0, 0x00, 0x02, 0x01,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x0A, 0x00, 0x00, 0x01,
      0x00, 0x01,
      0x00, 0x02));

  /** LOCAL (a health check) that still carries an AF_INET block: the block is ignored. */
  private static final byte[] V2_LOCAL_WITH_BLOCK = concat(SIG, bytes(
      0x20, 0x11, 0x00, 0x0C,
      0x7F, 0x00, 0x00, 0x01, 0x7F, 0x00, 0x00, 0x01, 0x00, 0x50, 0x00, 0x50));
  /** LOCAL as HAProxy sends it: AF_UNSPEC, length 0. */
  private static final byte[] V2_LOCAL_EMPTY = concat(SIG, bytes(0x20, 0x00, 0x00, 0x00));
  /** LOCAL with an unassigned family/transport byte: §2.2 says the family is ignored for LOCAL. */
  private static final byte[] V2_LOCAL_ODD_FAMILY = concat(SIG, bytes(0x20, 0xFF, 0x00, 0x00));
  /** LOCAL with family AF_INET6 and length 0, shorter than the family's block: the family is ignored. */
  private static final byte[] V2_LOCAL_INET6_EMPTY = concat(SIG, bytes(0x20, 0x21, 0x00, 0x00));
  /** PROXY, AF_UNSPEC, length 0. */
  private static final byte[] V2_UNSPEC = concat(SIG, bytes(0x21, 0x00, 0x00, 0x00));
  /** PROXY, AF_UNSPEC, with 4 bytes of something: skipped. */
  private static final byte[] V2_UNSPEC_BYTES = concat(SIG, bytes(0x21, 0x00, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04));
  /** PROXY, AF_INET with transport UNSPEC: the addresses are not a TCP peer's. */
  private static final byte[] V2_INET_UNSPEC_TRANSPORT = concat(SIG, bytes(
      0x21, 0x10, 0x00, 0x0C,
      0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33, 0x64, 0x07, 0xDB, 0xFC, 0x04, 0x38));
  /** PROXY, AF_INET DGRAM (UDP): local. */
  private static final byte[] V2_INET_DGRAM = concat(SIG, bytes(
      0x21, 0x12, 0x00, 0x0C,
      0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33, 0x64, 0x07, 0xDB, 0xFC, 0x04, 0x35));
  /** PROXY, AF_INET6 DGRAM: local. */
  private static final byte[] V2_INET6_DGRAM = concat(SIG, bytes(
      0x21, 0x22, 0x00, 0x24,
      0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
      0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
      0x01, 0xBB,
      0x00, 0x35));
  /** PROXY, AF_UNIX STREAM, "/run/lb.sock" and "/run/vx.sock", each NUL-padded to 108 bytes (216 = 0xD8): local. */
  private static final byte[] V2_UNIX = concat(SIG, bytes(0x21, 0x31, 0x00, 0xD8),
      padded(bytes('/', 'r', 'u', 'n', '/', 'l', 'b', '.', 's', 'o', 'c', 'k'), 108),
      padded(bytes('/', 'r', 'u', 'n', '/', 'v', 'x', '.', 's', 'o', 'c', 'k'), 108));
  /** PROXY, AF_UNIX DGRAM, same paths, then an empty NOOP TLV (219 = 0xDB): local. */
  private static final byte[] V2_UNIX_DGRAM_TLV = concat(SIG, bytes(0x21, 0x32, 0x00, 0xDB),
      padded(bytes('/', 'r', 'u', 'n', '/', 'l', 'b', '.', 's', 'o', 'c', 'k'), 108),
      padded(bytes('/', 'r', 'u', 'n', '/', 'v', 'x', '.', 's', 'o', 'c', 'k'), 108),
      bytes(0x04, 0x00, 0x00));
  /**
   * The longest v2 header we accept, 1536 bytes: length 1520 (0x05F0) = the AF_INET block + a NOOP TLV of 1505
   * (0x05E1) zero bytes.
   */
  private static final byte[] V2_AT_CAP = concat(SIG, bytes(
      0x21, 0x11, 0x05, 0xF0,
      0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33, 0x64, 0x07, 0xDB, 0xFC, 0x04, 0x38,
      0x04, 0x05, 0xE1), new byte[1505]);

  // ---------------------------------------------------------------------------------------------------------------
  // The connection the tests play.

  /** An error, as an event. */
  record Failed(String reason) {
  }

  /**
   * Plays the connection: feeds reads to the decoder until it decides, then hands later reads to "SOCKS5"
   * ({@link #downstream}), which also gets the leftover. It still feeds those later reads to the decoder too, which
   * must ignore them.
   */
  static final class Connection implements ProxyProtocolDecoder.Listener {
    final ProxyProtocolDecoder decoder = new ProxyProtocolDecoder(this);
    final List<Object> events = new ArrayList<>();
    final ByteArrayOutputStream downstream = new ByteArrayOutputStream();
    /** Bytes fed before the current read, and with it. */
    int fedBefore;
    int fed;
    /** The read during which the callback came: the bytes (decidedAfter, decidedBy] of the stream. */
    int decidedAfter = -1;
    int decidedBy = -1;
    int maxBuffered;

    void read(byte[] chunk) {
      if (!events.isEmpty()) {
        if (events.get(0) instanceof ProxyHeader) {
          downstream.writeBytes(chunk);
        }
        decoder.feed(Buffer.buffer(chunk));
        assertThat(events).as("events after a further feed").hasSize(1);
        assertThat(decoder.buffered()).isZero();
        return;
      }
      fedBefore = fed;
      fed += chunk.length;
      decoder.feed(Buffer.buffer(chunk));
      maxBuffered = Math.max(maxBuffered, decoder.buffered());
    }

    @Override
    public void onProxyHeader(ProxyHeader header, Buffer leftover) {
      events.add(header);
      downstream.writeBytes(leftover.getBytes());
      decided();
    }

    @Override
    public void onProxyHeaderError(String reason) {
      events.add(new Failed(reason));
      decided();
    }

    private void decided() {
      decidedAfter = fedBefore;
      decidedBy = fed;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Chunkings.

  record Chunking(String name, List<byte[]> chunks) {
  }

  /** Whole, every two-way split, one byte at a time. */
  private static List<Chunking> chunkings(byte[] input) {
    List<Chunking> out = new ArrayList<>();
    out.add(new Chunking("whole", List.of(input)));
    for (int i = 1; i < input.length; i++) {
      out.add(new Chunking("split@" + i,
          List.of(Arrays.copyOfRange(input, 0, i), Arrays.copyOfRange(input, i, input.length))));
    }
    List<byte[]> single = new ArrayList<>();
    for (byte b : input) {
      single.add(new byte[] {b});
    }
    out.add(new Chunking("bytewise", single));
    return out;
  }

  /**
   * {@code header}, then the greeting, decodes to {@code expected}: the callback comes in the read holding the
   * header's last byte, and SOCKS5 gets exactly the greeting.
   */
  private static DynamicContainer accepts(String name, byte[] header, ProxyHeader expected) {
    byte[] input = concat(header, GREETING);
    List<DynamicTest> tests = new ArrayList<>();
    for (Chunking c : chunkings(input)) {
      tests.add(DynamicTest.dynamicTest(c.name(), () -> {
        Connection conn = new Connection();
        c.chunks().forEach(conn::read);
        assertThat(conn.events).as("events").containsExactly(expected);
        decidedAt(conn, header.length);
        assertThat(conn.downstream.toByteArray()).as("what reaches SOCKS5").isEqualTo(GREETING);
        assertThat(conn.maxBuffered).as("bytes held").isLessThanOrEqualTo(ProxyProtocolDecoder.V1_MAX_LENGTH);
      }));
    }
    return DynamicContainer.dynamicContainer(name, tests);
  }

  private static DynamicContainer accepts(String name, String line, ProxyHeader expected) {
    return accepts(name, ascii(line), expected);
  }

  /**
   * {@code input}, then the greeting, is rejected with {@code reason}, in the read holding byte number {@code at}
   * (from 1): not before, since a prefix of a valid header must not be rejected, and not after.
   */
  private static DynamicContainer rejects(String name, byte[] input, int at, String reason) {
    byte[] all = concat(input, GREETING);
    List<DynamicTest> tests = new ArrayList<>();
    for (Chunking c : chunkings(all)) {
      tests.add(DynamicTest.dynamicTest(c.name(), () -> {
        Connection conn = new Connection();
        c.chunks().forEach(conn::read);
        assertThat(conn.events).as("events").containsExactly(new Failed(reason));
        decidedAt(conn, at);
        assertThat(conn.downstream.size()).as("nothing reaches SOCKS5").isZero();
        assertThat(conn.maxBuffered).as("bytes held").isLessThanOrEqualTo(ProxyProtocolDecoder.V1_MAX_LENGTH);
        // One short line, printable ASCII.
        assertThat(reason).hasSizeLessThan(120).matches("[\\x20-\\x7E]+");
      }));
    }
    return DynamicContainer.dynamicContainer(name, tests);
  }

  /** A v1 line rejected once its LF arrives. */
  private static DynamicContainer rejects(String name, String line, String reason) {
    return rejects(name, ascii(line), line.length(), reason);
  }

  private static DynamicContainer rejects(String name, String input, int at, String reason) {
    return rejects(name, ascii(input), at, reason);
  }

  private static void decidedAt(Connection conn, int at) {
    assertThat(conn.decidedAfter).as("bytes fed before the deciding read").isLessThan(at);
    assertThat(conn.decidedBy).as("bytes fed with the deciding read").isGreaterThanOrEqualTo(at);
  }

  private static ProxyHeader proxied(int version, String src, int sport, String dst, int dport) {
    return new ProxyHeader(version, false, new InetSocketAddress(literal(src), sport),
        new InetSocketAddress(literal(dst), dport));
  }

  /** An IP literal (InetAddress.getByName does no lookup for one). */
  private static InetAddress literal(String ip) {
    try {
      return InetAddress.getByName(ip);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(ip, e);
    }
  }

  private static final ProxyHeader V1_LOCAL = new ProxyHeader(1, true, null, null);
  private static final ProxyHeader V2_LOCAL = new ProxyHeader(2, true, null, null);

  // ---------------------------------------------------------------------------------------------------------------
  // v1 accepted.

  @Test
  void fixtureLengthsAreWhatTheSpecSays() {
    assertThat(V1_TCP4_MAX).hasSize(56);
    assertThat(V1_TCP6_MAX).hasSize(104);
    assertThat(V1_UNKNOWN_MAX).hasSize(107);
    assertThat(V1_UNKNOWN_108).hasSize(108);
    assertThat(V1_NO_CRLF_108).hasSize(108).doesNotContain("\r", "\n");
    assertThat(V2_INET).hasSize(28);
    assertThat(V2_INET_AWS).hasSize(16 + 38);
    assertThat(V2_INET_HIGH_CRC).hasSize(16 + 22);
    assertThat(V2_INET6).hasSize(52);
    assertThat(V2_INET6_TLVS).hasSize(16 + 55);
    assertThat(V2_UNIX).hasSize(16 + 216);
    assertThat(V2_UNIX_DGRAM_TLV).hasSize(16 + 219);
    assertThat(V2_AT_CAP).hasSize(ProxyProtocolDecoder.V2_MAX_LENGTH);
  }

  @TestFactory
  Stream<DynamicNode> v1Accepted() {
    return Stream.of(
        accepts("TCP4, the spec's example", V1_TCP4, proxied(1, "192.168.0.1", 56324, "192.168.0.11", 443)),
        accepts("TCP4, longest", V1_TCP4_MAX, proxied(1, "255.255.255.255", 65535, "255.255.255.255", 65535)),
        accepts("TCP4, zeros", "PROXY TCP4 0.0.0.0 10.0.0.1 0 1080\r\n", proxied(1, "0.0.0.0", 0, "10.0.0.1", 1080)),
        accepts("TCP6, ::1", "PROXY TCP6 ::1 ::1 40000 1080\r\n", proxied(1, "::1", 40000, "::1", 1080)),
        accepts("TCP6, 8 full groups, both cases",
            "PROXY TCP6 2001:0db8:85a3:0000:0000:8a2e:0370:7334 2001:DB8:0:0:8:800:200C:417A 443 1080\r\n",
            proxied(1, "2001:db8:85a3::8a2e:370:7334", 443, "2001:db8::8:800:200c:417a", 1080)),
        accepts("TCP6, longest", V1_TCP6_MAX, proxied(1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535)),
        accepts("TCP6, :: alone and in the middle", "PROXY TCP6 fe80::a:b0c :: 1 2\r\n",
            proxied(1, "fe80::a:b0c", 1, "::", 2)),
        accepts("TCP6, :: for one group at either end", "PROXY TCP6 1:2:3:4:5:6:7:: ::2:3:4:5:6:7:8 1 2\r\n",
            proxied(1, "1:2:3:4:5:6:7:0", 1, "0:2:3:4:5:6:7:8", 2)),
        // inet_ntop and nginx print IPv4-mapped addresses this way; Java turns them into Inet4Address.
        accepts("TCP6, IPv4-mapped in dotted form", "PROXY TCP6 ::ffff:192.0.2.1 ::ffff:10.0.0.1 50000 1080\r\n",
            proxied(1, "192.0.2.1", 50000, "10.0.0.1", 1080)),
        accepts("TCP6, dotted tail after 6 groups", "PROXY TCP6 64:ff9b:0:0:0:0:192.0.2.33 ::1 1 2\r\n",
            proxied(1, "64:ff9b::c000:221", 1, "::1", 2)),
        accepts("UNKNOWN, short form", "PROXY UNKNOWN\r\n", V1_LOCAL),
        accepts("UNKNOWN, with addresses", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", V1_LOCAL),
        accepts("UNKNOWN, 107 bytes", V1_UNKNOWN_MAX, V1_LOCAL),
        // §2.1: for UNKNOWN "the receiver must ignore anything presented before the CRLF".
        accepts("UNKNOWN, anything before the CRLF", "PROXY UNKNOWN  \u0000\u007f\u00ff\t x\r\n", V1_LOCAL));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // v1 rejected.

  @TestFactory
  Stream<DynamicNode> v1Framing() {
    return Stream.of(
        rejects("108 bytes, CRLF at 107-108", V1_UNKNOWN_108, 107, "v1 header longer than 107 bytes"),
        rejects("108 bytes, no CRLF", V1_NO_CRLF_108, 107, "v1 header longer than 107 bytes"),
        rejects("LF without CR", "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n", "v1 header ends in LF without CR"),
        rejects("UNKNOWN, LF without CR", "PROXY UNKNOWN\n", "v1 header ends in LF without CR"),
        rejects("CR then not LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "v1 header has a CR not followed by LF"),
        rejects("CR CR LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", 32, "v1 header has a CR not followed by LF"),
        rejects("CR in the middle", "PROXY TCP4\r 1.2.3.4 5.6.7.8 1 2\r\n", 12, "v1 header has a CR not followed by LF"),
        rejects("LF right after PROXY", "PROXY \n", "v1 header ends in LF without CR"));
  }

  @TestFactory
  Stream<DynamicNode> v1Prefix() {
    return Stream.of(
        rejects("'P' then not 'R'", "PX", 2, "not a PROXY protocol header (byte 2 is 0x58, not 0x52)"),
        rejects("an HTTP POST", "POST / HTTP/1.1\r\n", 2, "not a PROXY protocol header (byte 2 is 0x4F, not 0x52)"),
        rejects("PROXZ", "PROXZ TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 5,
            "not a PROXY protocol header (byte 5 is 0x5A, not 0x59)"),
        rejects("lower-case proxy", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 1,
            "not a PROXY protocol header (first byte 0x70)"),
        rejects("tab after PROXY", "PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", 6,
            "not a PROXY protocol header (byte 6 is 0x09, not 0x20)"),
        rejects("no space after PROXY", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", 6,
            "not a PROXY protocol header (byte 6 is 0x54, not 0x20)"),
        rejects("CRLF after PROXY", "PROXY\r\n", 6, "not a PROXY protocol header (byte 6 is 0x0D, not 0x20)"));
  }

  @TestFactory
  Stream<DynamicNode> v1Fields() {
    return Stream.of(
        rejects("two spaces after PROXY", "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
            "v1 protocol \"\" is not TCP4, TCP6 or UNKNOWN"),
        rejects("nothing after PROXY", "PROXY \r\n", "v1 protocol \"\" is not TCP4, TCP6 or UNKNOWN"),
        rejects("TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "v1 protocol \"TCP5\" is not TCP4, TCP6 or UNKNOWN"),
        rejects("UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1 protocol \"UDP4\" is not TCP4, TCP6 or UNKNOWN"),
        rejects("lower-case tcp4", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
            "v1 protocol \"tcp4\" is not TCP4, TCP6 or UNKNOWN"),
        rejects("UNKNOWNX", "PROXY UNKNOWNX\r\n", "v1 protocol \"UNKNOWNX\" is not TCP4, TCP6 or UNKNOWN"),
        rejects("UNKNOWN then a tab", "PROXY UNKNOWN\t1\r\n", "v1 protocol \"UNKNOWN\\x091\" is not TCP4, TCP6 or UNKNOWN"),
        rejects("a long protocol is quoted short", "PROXY " + "\u0001".repeat(60) + "\r\n",
            "v1 protocol \"" + "\\x01".repeat(10) + "...\" is not TCP4, TCP6 or UNKNOWN"),
        rejects("TCP4 alone", "PROXY TCP4\r\n", "v1 TCP4 line does not have 5 fields separated by single spaces"),
        rejects("two spaces between addresses", "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
            "v1 TCP4 line does not have 5 fields separated by single spaces"),
        rejects("two spaces after TCP4", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
            "v1 TCP4 line does not have 5 fields separated by single spaces"),
        rejects("trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
            "v1 TCP4 line does not have 5 fields separated by single spaces"),
        rejects("a tab between addresses", "PROXY TCP6 ::1\t::1 1 2\r\n",
            "v1 TCP6 line does not have 5 fields separated by single spaces"),
        rejects("a port missing", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
            "v1 TCP4 line does not have 5 fields separated by single spaces"),
        rejects("a sixth field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
            "v1 TCP4 line does not have 5 fields separated by single spaces"));
  }

  @TestFactory
  Stream<DynamicNode> v1Ports() {
    return Stream.of(
        rejects("source port 65536", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
            "v1 source port \"65536\" is not a decimal number in 0-65535"),
        rejects("destination port -1", "PROXY TCP4 1.2.3.4 5.6.7.8 1 -1\r\n",
            "v1 destination port \"-1\" is not a decimal number in 0-65535"),
        rejects("source port empty", "PROXY TCP4 1.2.3.4 5.6.7.8  2\r\n",
            "v1 source port \"\" is not a decimal number in 0-65535"),
        rejects("destination port empty", "PROXY TCP6 ::1 ::1 1 \r\n",
            "v1 destination port \"\" is not a decimal number in 0-65535"),
        rejects("port +80", "PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n",
            "v1 source port \"+80\" is not a decimal number in 0-65535"),
        rejects("port with a heading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 1 080\r\n",
            "v1 destination port \"080\" is not a decimal number in 0-65535"),
        rejects("port 00", "PROXY TCP4 1.2.3.4 5.6.7.8 00 1\r\n",
            "v1 source port \"00\" is not a decimal number in 0-65535"),
        rejects("port in hex", "PROXY TCP4 1.2.3.4 5.6.7.8 0x50 1\r\n",
            "v1 source port \"0x50\" is not a decimal number in 0-65535"),
        rejects("port 999999", "PROXY TCP4 1.2.3.4 5.6.7.8 1 999999\r\n",
            "v1 destination port \"999999\" is not a decimal number in 0-65535"),
        rejects("port in Arabic-Indic digits (UTF-8)", "PROXY TCP4 1.2.3.4 5.6.7.8 1 \u00d9\u00a1\r\n",
            "v1 destination port \"\\xD9\\xA1\" is not a decimal number in 0-65535"));
  }

  @TestFactory
  Stream<DynamicNode> v1Addresses() {
    return Stream.of(
        rejects("TCP4, three parts", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
            "v1 TCP4 source address \"1.2.3\" is not an IPv4 address"),
        rejects("TCP4, five parts", "PROXY TCP4 1.2.3.4 5.6.7.8.9 1 2\r\n",
            "v1 TCP4 destination address \"5.6.7.8.9\" is not an IPv4 address"),
        rejects("TCP4, 256", "PROXY TCP4 256.1.1.1 5.6.7.8 1 2\r\n",
            "v1 TCP4 source address \"256.1.1.1\" is not an IPv4 address"),
        rejects("TCP4, heading zero", "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
            "v1 TCP4 source address \"01.2.3.4\" is not an IPv4 address"),
        rejects("TCP4, empty part", "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n",
            "v1 TCP4 source address \"1..3.4\" is not an IPv4 address"),
        rejects("TCP4, four digits", "PROXY TCP4 1.2.3.1000 5.6.7.8 1 2\r\n",
            "v1 TCP4 source address \"1.2.3.1000\" is not an IPv4 address"),
        rejects("TCP4, trailing dot", "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n",
            "v1 TCP4 source address \"1.2.3.4.\" is not an IPv4 address"),
        rejects("TCP4, a host name", "PROXY TCP4 localhost 5.6.7.8 1 2\r\n",
            "v1 TCP4 source address \"localhost\" is not an IPv4 address"),
        rejects("TCP4, a 32-bit number", "PROXY TCP4 16909060 5.6.7.8 1 2\r\n",
            "v1 TCP4 source address \"16909060\" is not an IPv4 address"),
        rejects("TCP4 with IPv6 addresses", "PROXY TCP4 ::1 ::1 1 2\r\n",
            "v1 TCP4 source address \"::1\" is not an IPv4 address"),
        rejects("TCP4 with a mapped IPv6 address", "PROXY TCP4 ::ffff:1.2.3.4 5.6.7.8 1 2\r\n",
            "v1 TCP4 source address \"::ffff:1.2.3.4\" is not an IPv4 address"),
        rejects("TCP6 with IPv4 addresses", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
            "v1 TCP6 source address \"1.2.3.4\" is not an IPv6 address"),
        rejects("TCP6, nine groups", "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",
            "v1 TCP6 source address \"1:2:3:4:5:6:7:8:9\" is not an IPv6 address"),
        rejects("TCP6, seven groups", "PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n",
            "v1 TCP6 source address \"1:2:3:4:5:6:7\" is not an IPv6 address"),
        rejects("TCP6, eight groups and ::", "PROXY TCP6 1:2:3:4:5:6:7::8 ::1 1 2\r\n",
            "v1 TCP6 source address \"1:2:3:4:5:6:7::8\" is not an IPv6 address"),
        rejects("TCP6, two ::", "PROXY TCP6 1::2::3 ::1 1 2\r\n",
            "v1 TCP6 source address \"1::2::3\" is not an IPv6 address"),
        rejects("TCP6, :::", "PROXY TCP6 ::: ::1 1 2\r\n", "v1 TCP6 source address \":::\" is not an IPv6 address"),
        rejects("TCP6, five hex digits", "PROXY TCP6 12345::1 ::1 1 2\r\n",
            "v1 TCP6 source address \"12345::1\" is not an IPv6 address"),
        rejects("TCP6, not hex", "PROXY TCP6 g::1 ::1 1 2\r\n", "v1 TCP6 source address \"g::1\" is not an IPv6 address"),
        rejects("TCP6, leading single colon", "PROXY TCP6 :1::2 ::1 1 2\r\n",
            "v1 TCP6 source address \":1::2\" is not an IPv6 address"),
        rejects("TCP6, trailing single colon", "PROXY TCP6 ::1 1::2: 1 2\r\n",
            "v1 TCP6 destination address \"1::2:\" is not an IPv6 address"),
        rejects("TCP6, zone id", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",
            "v1 TCP6 source address \"fe80::1%eth0\" is not an IPv6 address"),
        rejects("TCP6, brackets", "PROXY TCP6 [::1] ::1 1 2\r\n",
            "v1 TCP6 source address \"[::1]\" is not an IPv6 address"),
        rejects("TCP6, a host name", "PROXY TCP6 localhost ::1 1 2\r\n",
            "v1 TCP6 source address \"localhost\" is not an IPv6 address"),
        rejects("TCP6, dotted part not last", "PROXY TCP6 1.2.3.4::1 ::1 1 2\r\n",
            "v1 TCP6 source address \"1.2.3.4::1\" is not an IPv6 address"),
        rejects("TCP6, dotted part too short", "PROXY TCP6 ::ffff:1.2.3 ::1 1 2\r\n",
            "v1 TCP6 source address \"::ffff:1.2.3\" is not an IPv6 address"),
        rejects("TCP6, dotted tail after 7 groups", "PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n",
            "v1 TCP6 source address \"1:2:3:4:5:6:7:1.2.3.4\" is not an IPv6 address"),
        rejects("TCP6, empty destination", "PROXY TCP6 ::1  1 2\r\n",
            "v1 TCP6 destination address \"\" is not an IPv6 address"));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // v2 accepted.

  @TestFactory
  Stream<DynamicNode> v2Accepted() {
    return Stream.of(
        accepts("PROXY INET", V2_INET, proxied(2, "192.0.2.1", 56316, "198.51.100.7", 1080)),
        accepts("PROXY INET with an AWS 0xEA TLV", V2_INET_AWS, proxied(2, "192.0.2.1", 56316, "198.51.100.7", 1080)),
        accepts("PROXY INET, high bits, CRC32C and NOOP TLVs", V2_INET_HIGH_CRC,
            proxied(2, "255.255.255.255", 65535, "0.0.0.0", 0)),
        accepts("PROXY INET6", V2_INET6, proxied(2, "2001:db8::1", 443, "2001:db8::2", 1080)),
        accepts("PROXY INET6 with ALPN and AUTHORITY TLVs", V2_INET6_TLVS,
            proxied(2, "2001:db8::1", 443, "2001:db8::2", 1080)),
        accepts("PROXY INET6, IPv4-mapped", V2_INET6_MAPPED, proxied(2, "192.0.2.1", 1, "10.0.0.1", 2)),
        accepts("LOCAL with an INET block", V2_LOCAL_WITH_BLOCK, V2_LOCAL),
        accepts("LOCAL, length 0", V2_LOCAL_EMPTY, V2_LOCAL),
        accepts("LOCAL, family byte 0xFF", V2_LOCAL_ODD_FAMILY, V2_LOCAL),
        accepts("LOCAL, INET6 family, length 0", V2_LOCAL_INET6_EMPTY, V2_LOCAL),
        accepts("PROXY UNSPEC", V2_UNSPEC, V2_LOCAL),
        accepts("PROXY UNSPEC with bytes", V2_UNSPEC_BYTES, V2_LOCAL),
        accepts("PROXY INET, transport UNSPEC", V2_INET_UNSPEC_TRANSPORT, V2_LOCAL),
        accepts("PROXY INET DGRAM", V2_INET_DGRAM, V2_LOCAL),
        accepts("PROXY INET6 DGRAM", V2_INET6_DGRAM, V2_LOCAL),
        accepts("PROXY UNIX STREAM", V2_UNIX, V2_LOCAL),
        accepts("PROXY UNIX DGRAM with a TLV", V2_UNIX_DGRAM_TLV, V2_LOCAL),
        accepts("1536 bytes, the cap", V2_AT_CAP, proxied(2, "192.0.2.1", 56316, "198.51.100.7", 1080)));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // v2 rejected.

  @TestFactory
  Stream<DynamicNode> v2Rejected() {
    return Stream.of(
        rejects("version 1 (0x11)", concat(SIG, bytes(0x11, 0x11, 0x00, 0x0C)), 13,
            "v2 version 1 is not 2 (version/command byte 0x11)"),
        rejects("version 0 (0x01)", concat(SIG, bytes(0x01, 0x11, 0x00, 0x0C)), 13,
            "v2 version 0 is not 2 (version/command byte 0x01)"),
        rejects("version 15 (0xF1)", concat(SIG, bytes(0xF1, 0x11, 0x00, 0x0C)), 13,
            "v2 version 15 is not 2 (version/command byte 0xF1)"),
        rejects("command 2 (0x22)", concat(SIG, bytes(0x22, 0x11, 0x00, 0x0C)), 13,
            "v2 command 2 is neither LOCAL (0) nor PROXY (1)"),
        rejects("command 15 (0x2F)", concat(SIG, bytes(0x2F, 0x00, 0x00, 0x00)), 13,
            "v2 command 15 is neither LOCAL (0) nor PROXY (1)"),
        rejects("family 4", concat(SIG, bytes(0x21, 0x41, 0x00, 0x0C)), 14,
            "v2 address family 4 is unknown (family/transport byte 0x41)"),
        rejects("family 15", concat(SIG, bytes(0x21, 0xF1, 0x00, 0x0C)), 14,
            "v2 address family 15 is unknown (family/transport byte 0xF1)"),
        rejects("transport 3", concat(SIG, bytes(0x21, 0x13, 0x00, 0x0C)), 14,
            "v2 transport 3 is unknown (family/transport byte 0x13)"),
        rejects("UNSPEC family, transport 15", concat(SIG, bytes(0x21, 0x0F, 0x00, 0x00)), 14,
            "v2 transport 15 is unknown (family/transport byte 0x0F)"),
        rejects("INET, length 11", concat(SIG, bytes(0x21, 0x11, 0x00, 0x0B,
                0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33, 0x64, 0x07, 0xDB, 0xFC, 0x04)), 16,
            "v2 address length 11 is shorter than the 12-byte AF_INET block"),
        rejects("INET, length 0", concat(SIG, bytes(0x21, 0x11, 0x00, 0x00)), 16,
            "v2 address length 0 is shorter than the 12-byte AF_INET block"),
        rejects("INET DGRAM, length 4", concat(SIG, bytes(0x21, 0x12, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04)), 16,
            "v2 address length 4 is shorter than the 12-byte AF_INET block"),
        rejects("INET6, length 12", concat(SIG, bytes(0x21, 0x21, 0x00, 0x0C,
                0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33, 0x64, 0x07, 0xDB, 0xFC, 0x04, 0x38)), 16,
            "v2 address length 12 is shorter than the 36-byte AF_INET6 block"),
        rejects("INET6, length 35", concat(SIG, bytes(0x21, 0x21, 0x00, 0x23)), 16,
            "v2 address length 35 is shorter than the 36-byte AF_INET6 block"),
        rejects("UNIX, length 215", concat(SIG, bytes(0x21, 0x31, 0x00, 0xD7)), 16,
            "v2 address length 215 is shorter than the 216-byte AF_UNIX block"),
        rejects("length 1521, one over the cap", concat(SIG, bytes(0x21, 0x11, 0x05, 0xF1)), 16,
            "v2 header length 1537 exceeds 1536"),
        rejects("length 65535", concat(SIG, bytes(0x21, 0x11, 0xFF, 0xFF)), 16, "v2 header length 65551 exceeds 1536"),
        rejects("LOCAL, length 0x8000 (read unsigned)", concat(SIG, bytes(0x20, 0x00, 0x80, 0x00)), 16,
            "v2 header length 32784 exceeds 1536"),
        rejects("signature, byte 5 not NUL", bytes(0x0D, 0x0A, 0x0D, 0x0A, 0x20, 0x0D, 0x0A, 0x51), 5,
            "not a PROXY protocol header (byte 5 is 0x20, not 0x00)"),
        rejects("signature, 'quit' in lower case", bytes(0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x71), 8,
            "not a PROXY protocol header (byte 8 is 0x71, not 0x51)"),
        rejects("signature, last byte", concat(Arrays.copyOf(SIG, 11), bytes(0x0D, 0x21, 0x11, 0x00, 0x0C)), 12,
            "not a PROXY protocol header (byte 12 is 0x0D, not 0x0A)"),
        rejects("CR CR", bytes(0x0D, 0x0D), 2, "not a PROXY protocol header (byte 2 is 0x0D, not 0x0A)"));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Neither.

  @TestFactory
  Stream<DynamicNode> notAHeader() {
    return Stream.of(
        // A direct SOCKS5 client on a balancer's address: rejected at its first byte, without waiting for more.
        rejects("a SOCKS5 greeting", new byte[0], 1, "not a PROXY protocol header (first byte 0x05)"),
        rejects("a TLS ClientHello", bytes(0x16, 0x03, 0x01, 0x02, 0x00), 1,
            "not a PROXY protocol header (first byte 0x16)"),
        rejects("GET", "GET / HTTP/1.1\r\n", 1, "not a PROXY protocol header (first byte 0x47)"),
        rejects("a NUL", bytes(0x00), 1, "not a PROXY protocol header (first byte 0x00)"),
        rejects("0xFF", bytes(0xFF), 1, "not a PROXY protocol header (first byte 0xFF)"),
        rejects("a LF", bytes(0x0A), 1, "not a PROXY protocol header (first byte 0x0A)"));
  }

  @Test
  void aSocks5ClientIsRejectedAtItsFirstByte() {
    Connection conn = new Connection();
    conn.read(bytes(0x05));
    assertThat(conn.events).containsExactly(new Failed("not a PROXY protocol header (first byte 0x05)"));
    assertThat(conn.decoder.buffered()).isZero();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Truncated input and bounds.

  @Test
  void truncatedHeadersGetNoCallbackAndStayBounded() {
    for (byte[] header : List.of(ascii(V1_TCP4), ascii(V1_UNKNOWN_MAX), V2_INET, V2_INET_AWS, V2_INET6_TLVS, V2_UNIX,
        V2_AT_CAP)) {
      byte[] partial = Arrays.copyOf(header, header.length - 1);
      for (Chunking c : List.of(chunkings(partial).get(0), chunkings(partial).get(partial.length))) {
        Connection conn = new Connection();
        c.chunks().forEach(conn::read);
        assertThat(conn.events).as("%d of %d bytes, %s", partial.length, header.length, c.name()).isEmpty();
        assertThat(conn.maxBuffered).isLessThanOrEqualTo(ProxyProtocolDecoder.V1_MAX_LENGTH);
      }
    }
  }

  @Test
  void v2HoldsOnlyTheFixedPartAndTheAddressesItParses() {
    // TLVs and unused address blocks are counted off, not stored.
    for (byte[] header : List.of(V2_INET_AWS, V2_AT_CAP)) {
      Connection conn = new Connection();
      chunkings(Arrays.copyOf(header, header.length - 1)).get(0).chunks().forEach(conn::read);
      assertThat(conn.decoder.buffered()).isEqualTo(16 + 12);
    }
    Connection conn = new Connection();
    conn.read(Arrays.copyOf(V2_INET6_TLVS, V2_INET6_TLVS.length - 1));
    assertThat(conn.decoder.buffered()).isEqualTo(16 + 36);
    conn = new Connection();
    conn.read(Arrays.copyOf(V2_UNIX, V2_UNIX.length - 1));
    assertThat(conn.decoder.buffered()).isEqualTo(16);
  }

  @Test
  void twoMegabytesOfAsAfterProxyAreRejectedAt107Bytes() {
    byte[] as = new byte[2 * 1024 * 1024];
    Arrays.fill(as, (byte) 'A');
    // Whole, in 8 KiB reads, and one byte at a time.
    for (int size : new int[] {as.length, 8192, 1}) {
      Connection conn = new Connection();
      conn.read(ascii("PROXY "));
      for (int i = 0; i < as.length; i += size) {
        conn.read(Arrays.copyOfRange(as, i, Math.min(i + size, as.length)));
        assertThat(conn.decoder.buffered()).isLessThanOrEqualTo(108);
      }
      assertThat(conn.events).as("reads of %d", size).containsExactly(new Failed("v1 header longer than 107 bytes"));
      decidedAt(conn, 107);
      assertThat(conn.maxBuffered).isLessThanOrEqualTo(106);
    }
  }

  /**
   * Every valid fixture with one byte replaced, at every position, by bytes the parser cares about: nothing is thrown,
   * there is at most one outcome, and fed whole or one byte at a time the outcome and the leftover are the same.
   */
  @Test
  void oneByteChangedAnywhereGivesTheSameOutcomeWholeOrBytewise() {
    List<byte[]> fixtures = List.of(ascii(V1_TCP4), ascii(V1_TCP4_MAX), ascii(V1_TCP6_MAX), ascii(V1_UNKNOWN_MAX),
        ascii("PROXY TCP6 ::ffff:192.0.2.1 ::1 50000 1080\r\n"), ascii("PROXY UNKNOWN\r\n"), V2_INET, V2_INET_AWS,
        V2_INET_HIGH_CRC, V2_INET6, V2_INET6_TLVS, V2_LOCAL_WITH_BLOCK, V2_LOCAL_EMPTY, V2_UNSPEC_BYTES, V2_UNIX);
    int[] replacements = {0x00, 0xFF, 0x80, ' ', '\r', '\n', '0', '9', ':', '.', 'f', 'P', 0x0D, 0x21, 0x11, 0x05};
    for (byte[] fixture : fixtures) {
      for (int at = 0; at < fixture.length; at++) {
        for (int r : replacements) {
          byte[] input = concat(fixture, GREETING);
          input[at] = (byte) r;
          Connection whole = new Connection();
          whole.read(input);
          Connection bytewise = new Connection();
          for (byte b : input) {
            bytewise.read(new byte[] {b});
          }
          String what = String.format("byte %d of a %d-byte fixture set to 0x%02X", at + 1, fixture.length, r);
          assertThat(bytewise.events).as(what).isEqualTo(whole.events).hasSizeLessThanOrEqualTo(1);
          assertThat(bytewise.downstream.toByteArray()).as(what).isEqualTo(whole.downstream.toByteArray());
          assertThat(bytewise.maxBuffered).as(what).isLessThanOrEqualTo(ProxyProtocolDecoder.V1_MAX_LENGTH);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Leftover and what comes after a callback.

  @Test
  void leftoverIsExactlyWhatFollowsTheHeaderInTheSameRead() {
    byte[] socks = bytes(0x05, 0x02, 0x00, 0x02, 0x05, 0x01, 0x00, 0x01, 0x7F, 0x00, 0x00, 0x01, 0x00, 0x50);
    for (byte[] header : List.of(ascii(V1_TCP4), V2_INET_AWS, V2_LOCAL_EMPTY)) {
      List<Buffer> leftovers = new ArrayList<>();
      ProxyProtocolDecoder d = decoderRecording(leftovers);
      d.feed(Buffer.buffer(concat(header, socks)));
      assertThat(leftovers).hasSize(1);
      assertThat(leftovers.get(0).getBytes()).isEqualTo(socks);
    }
  }

  @Test
  void leftoverIsEmptyWhenTheHeaderEndsTheRead() {
    for (byte[] header : List.of(ascii(V1_TCP4), ascii("PROXY UNKNOWN\r\n"), V2_INET, V2_INET6_TLVS, V2_UNSPEC)) {
      List<Buffer> leftovers = new ArrayList<>();
      ProxyProtocolDecoder d = decoderRecording(leftovers);
      d.feed(Buffer.buffer(header));
      assertThat(leftovers).hasSize(1);
      assertThat(leftovers.get(0).length()).isZero();
    }
  }

  @Test
  void leftoverDoesNotAliasTheFedBuffer() {
    List<Buffer> leftovers = new ArrayList<>();
    ProxyProtocolDecoder d = decoderRecording(leftovers);
    Buffer in = Buffer.buffer(concat(V2_INET, GREETING));
    d.feed(in);
    in.setByte(in.length() - 1, (byte) 0x42);
    assertThat(leftovers.get(0).getBytes()).isEqualTo(GREETING);
  }

  private static ProxyProtocolDecoder decoderRecording(List<Buffer> leftovers) {
    return new ProxyProtocolDecoder(new ProxyProtocolDecoder.Listener() {
      @Override
      public void onProxyHeader(ProxyHeader header, Buffer leftover) {
        leftovers.add(leftover);
      }

      @Override
      public void onProxyHeaderError(String reason) {
        throw new AssertionError(reason);
      }
    });
  }

  @Test
  void afterAHeaderFurtherFeedsDoNothing() {
    Connection conn = new Connection();
    conn.decoder.feed(Buffer.buffer(V2_INET));
    conn.decoder.feed(Buffer.buffer(V2_INET6));
    conn.decoder.feed(Buffer.buffer(bytes(0x05)));
    conn.decoder.feed(Buffer.buffer(ascii(V1_TCP4)));
    conn.decoder.feed(Buffer.buffer());
    assertThat(conn.events).containsExactly(proxied(2, "192.0.2.1", 56316, "198.51.100.7", 1080));
    assertThat(conn.decoder.buffered()).isZero();
  }

  @Test
  void afterAnErrorFurtherFeedsDoNothing() {
    Connection conn = new Connection();
    conn.decoder.feed(Buffer.buffer(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n")));
    conn.decoder.feed(Buffer.buffer(ascii(V1_TCP4)));
    conn.decoder.feed(Buffer.buffer(V2_INET));
    conn.decoder.feed(Buffer.buffer(bytes(0x05)));
    assertThat(conn.events).containsExactly(
        new Failed("v1 destination port \"65536\" is not a decimal number in 0-65535"));
    assertThat(conn.decoder.buffered()).isZero();
  }

  @Test
  void aListenerFeedingAgainFromItsCallbackIsIgnored() {
    List<Object> events = new ArrayList<>();
    ProxyProtocolDecoder[] d = new ProxyProtocolDecoder[1];
    d[0] = new ProxyProtocolDecoder(new ProxyProtocolDecoder.Listener() {
      @Override
      public void onProxyHeader(ProxyHeader header, Buffer leftover) {
        events.add(header);
        d[0].feed(Buffer.buffer(V2_INET6));
      }

      @Override
      public void onProxyHeaderError(String reason) {
        events.add(new Failed(reason));
      }
    });
    d[0].feed(Buffer.buffer(concat(V2_INET, V2_INET)));
    assertThat(events).containsExactly(proxied(2, "192.0.2.1", 56316, "198.51.100.7", 1080));
  }

  @Test
  void emptyFeedsChangeNothing() {
    Connection conn = new Connection();
    conn.read(new byte[0]);
    conn.read(ascii("PROXY TCP4 "));
    conn.read(new byte[0]);
    conn.read(ascii("1.2.3.4 5.6.7.8 1 2\r\n"));
    assertThat(conn.events).containsExactly(proxied(1, "1.2.3.4", 1, "5.6.7.8", 2));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // ProxyHeader.

  @Test
  void describeIsOneLineWithoutLookups() {
    assertThat(proxied(2, "192.0.2.1", 56316, "198.51.100.7", 1080).describe())
        .isEqualTo("v2 192.0.2.1:56316 -> 198.51.100.7:1080");
    assertThat(proxied(1, "2001:db8::1", 443, "::1", 1080).describe())
        .isEqualTo("v1 [2001:db8:0:0:0:0:0:1]:443 -> [0:0:0:0:0:0:0:1]:1080");
    assertThat(V1_LOCAL.describe()).isEqualTo("v1 local");
    assertThat(V2_LOCAL.describe()).isEqualTo("v2 local");
  }

  @Test
  void mappedAddressesBecomeInet4Addresses() {
    Connection conn = new Connection();
    conn.read(V2_INET6_MAPPED);
    ProxyHeader h = (ProxyHeader) conn.events.get(0);
    assertThat(h.source().getAddress()).isInstanceOf(Inet4Address.class);
    assertThat(h.describe()).isEqualTo("v2 192.0.2.1:1 -> 10.0.0.1:2");
  }

  @Test
  void headerInvariants() {
    InetSocketAddress a = new InetSocketAddress(literal("192.0.2.1"), 1);
    assertThatThrownBy(() -> new ProxyHeader(3, true, null, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ProxyHeader(2, true, a, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ProxyHeader(2, false, a, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ProxyHeader(1, false, a, InetSocketAddress.createUnresolved("example.com", 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---------------------------------------------------------------------------------------------------------------

  static byte[] ascii(String s) {
    // ISO-8859-1 so that \u0000-\u00ff in a fixture is exactly that byte.
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** {@code b}, then NULs up to {@code length} (an AF_UNIX sun_path). */
  static byte[] padded(byte[] b, int length) {
    return Arrays.copyOf(b, length);
  }
}
