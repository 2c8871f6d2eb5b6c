package dev.vxsocks.proxy.codec;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.buffer.Buffer;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes {@link ProxyProtocolDecoder} (docs/security/fuzzing.md) with any bytes, fed one byte at a time, whole, and in
 * random splits. What must hold for every input:
 * <ul>
 *   <li>at most one outcome, nothing thrown, nothing after it; the same outcome, reason and bytes behind the header
 *       for every split, reported during the feed that holds the deciding byte (found byte by byte);</li>
 *   <li>until then the decoder holds at most {@code V1_MAX_LENGTH - 1} bytes ({@link ProxyProtocolDecoder#buffered});
 *       a v1 header is at most 107 bytes and ends in CRLF, a v2 header at most {@code V2_MAX_LENGTH} and its length
 *       field says where it ends;</li>
 *   <li>a header says what its bytes say: a v1 line's addresses are the JDK's reading of the same literals, a v2
 *       header's are its address block; the header encoded again ({@link #v1}, {@link #v2}) decodes to itself;</li>
 *   <li>an error reason is one short line of printable ASCII.</li>
 * </ul>
 */
class ProxyProtocolDecoderFuzzTest {

  private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

  @FuzzTest
  void header(FuzzedDataProvider data) throws UnknownHostException {
    int[] cuts = new int[data.consumeInt(0, 8)];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = data.consumeInt(0, Integer.MAX_VALUE);
    }
    byte[] input = data.consumeRemainingAsBytes();
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] %= input.length + 1;
    }
    Arrays.sort(cuts);

    int[] each = new int[input.length];
    for (int i = 0; i < input.length; i++) {
      each[i] = i + 1;
    }
    Run bytewise = Run.of(input, each);
    Run whole = Run.of(input, new int[0]);
    Run split = Run.of(input, cuts);
    for (Run run : new Run[] {whole, split}) {
      assertThat(run.header).isEqualTo(bytewise.header);
      assertThat(run.error).isEqualTo(bytewise.error);
    }
    if (bytewise.decidedIn < 0) {
      assertThat(whole.decidedIn).isEqualTo(-1);
      assertThat(split.decidedIn).isEqualTo(-1);
      return;
    }
    // Byte by byte, feed k is byte k: it is the deciding byte. Every other split decides in the feed holding it.
    int decidingByte = bytewise.decidedIn;
    assertThat(split.from(split.decidedIn)).isLessThanOrEqualTo(decidingByte);
    assertThat(split.to(split.decidedIn, input.length)).isGreaterThan(decidingByte);
    if (bytewise.error != null) {
      assertThat(bytewise.error).matches("[\\x20-\\x7E]{1,200}");
      return;
    }
    int headerLength = decidingByte + 1;
    assertThat(whole.leftover).isEqualTo(Arrays.copyOfRange(input, headerLength, input.length));
    assertThat(split.leftover)
        .isEqualTo(Arrays.copyOfRange(input, headerLength, split.to(split.decidedIn, input.length)));
    ProxyHeader h = bytewise.header;
    assertThat(h.describe()).matches("[\\x20-\\x7E]+");
    byte[] sent = Arrays.copyOf(input, headerLength);
    if (h.version() == 1) {
      checkV1(sent, h);
    } else {
      checkV2(sent, h);
    }
    // Our own encoding of what was decoded reads back the same.
    Run again = Run.of(h.version() == 1 ? v1(h) : v2(h), new int[0]);
    assertThat(again.header).isEqualTo(h);
  }

  private static void checkV1(byte[] sent, ProxyHeader h) throws UnknownHostException {
    assertThat(sent.length).isLessThanOrEqualTo(ProxyProtocolDecoder.V1_MAX_LENGTH);
    assertThat(new String(sent, StandardCharsets.ISO_8859_1)).startsWith("PROXY ").endsWith("\r\n");
    String line = new String(sent, 6, sent.length - 8, StandardCharsets.ISO_8859_1);
    if (h.local()) {
      assertThat(line).matches("(?s)UNKNOWN( .*)?");
      return;
    }
    String[] f = line.split(" ", -1);
    assertThat(f).hasSize(5);
    assertThat(f[0]).isIn("TCP4", "TCP6");
    for (int i = 1; i <= 4; i++) {
      // Only digits, dots, colons and hex: the JDK reads these as literals and never asks DNS.
      assertThat(f[i]).matches(i <= 2 ? (f[0].equals("TCP4") ? "[0-9.]+" : "[0-9A-Fa-f:.]+") : "[0-9]+");
    }
    assertThat(f[1].contains(":")).isEqualTo(f[0].equals("TCP6"));
    assertThat(h.source().getAddress()).isEqualTo(InetAddress.getByName(f[1]));
    assertThat(h.destination().getAddress()).isEqualTo(InetAddress.getByName(f[2]));
    assertThat(h.source().getPort()).isEqualTo(Integer.parseInt(f[3]));
    assertThat(h.destination().getPort()).isEqualTo(Integer.parseInt(f[4]));
  }

  private static void checkV2(byte[] sent, ProxyHeader h) {
    assertThat(sent.length).isBetween(16, ProxyProtocolDecoder.V2_MAX_LENGTH);
    assertThat(Arrays.copyOf(sent, 12)).isEqualTo(V2_SIGNATURE);
    assertThat(((sent[14] & 0xFF) << 8 | (sent[15] & 0xFF)) + 16).isEqualTo(sent.length);
    int command = sent[12] & 0x0F;
    int family = (sent[13] & 0xFF) >> 4;
    int transport = sent[13] & 0x0F;
    assertThat((sent[12] & 0xFF) >> 4).isEqualTo(2);
    boolean parsed = command == 1 && transport == 1 && (family == 1 || family == 2);
    assertThat(h.local()).isEqualTo(!parsed);
    if (parsed) {
      int size = family == 1 ? 4 : 16;
      byte[] block = Arrays.copyOfRange(sent, 16, 16 + 2 * size + 4);
      assertThat(addressBlock(h, size)).isEqualTo(block);
    }
  }

  /** src, dst, sport, dport as v2 writes them; {@code size} 16 turns a Java Inet4Address back into ::ffff:a.b.c.d. */
  private static byte[] addressBlock(ProxyHeader h, int size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(bytes(h.source().getAddress(), size));
    out.writeBytes(bytes(h.destination().getAddress(), size));
    out.write(h.source().getPort() >> 8);
    out.write(h.source().getPort());
    out.write(h.destination().getPort() >> 8);
    out.write(h.destination().getPort());
    return out.toByteArray();
  }

  private static byte[] bytes(InetAddress a, int size) {
    byte[] b = a.getAddress();
    if (b.length == size) {
      return b;
    }
    assertThat(b).hasSize(4);
    assertThat(size).isEqualTo(16);
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xFF;
    mapped[11] = (byte) 0xFF;
    System.arraycopy(b, 0, mapped, 12, 4);
    return mapped;
  }

  /** A v1 line for {@code h}: UNKNOWN when local, else TCP4 or TCP6 as the source address is. */
  static byte[] v1(ProxyHeader h) {
    if (h.local()) {
      return "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);
    }
    boolean v6 = h.source().getAddress() instanceof Inet6Address || h.destination().getAddress() instanceof Inet6Address;
    String line = "PROXY " + (v6 ? "TCP6 " : "TCP4 ") + literal(h.source(), v6) + " " + literal(h.destination(), v6)
        + " " + h.source().getPort() + " " + h.destination().getPort() + "\r\n";
    return line.getBytes(StandardCharsets.US_ASCII);
  }

  private static String literal(InetSocketAddress a, boolean v6) {
    InetAddress address = a.getAddress();
    if (v6 && address instanceof Inet4Address) {
      return "::ffff:" + address.getHostAddress();
    }
    return address.getHostAddress();
  }

  /** A v2 header for {@code h}: LOCAL when local, else PROXY over STREAM with the addresses' family. */
  static byte[] v2(ProxyHeader h) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(V2_SIGNATURE);
    if (h.local()) {
      out.writeBytes(new byte[] {0x20, 0x00, 0x00, 0x00});
      return out.toByteArray();
    }
    boolean v6 = h.source().getAddress() instanceof Inet6Address || h.destination().getAddress() instanceof Inet6Address;
    byte[] block = addressBlock(h, v6 ? 16 : 4);
    out.writeBytes(new byte[] {0x21, (byte) (v6 ? 0x21 : 0x11), 0x00, (byte) block.length});
    out.writeBytes(block);
    return out.toByteArray();
  }

  /** One pass over {@code input}, cut at {@code cuts}. */
  static final class Run implements ProxyProtocolDecoder.Listener {
    private final ProxyProtocolDecoder decoder = new ProxyProtocolDecoder(this);
    private final int[] cuts;
    ProxyHeader header;
    String error;
    byte[] leftover;
    /** The index of the feed during which the outcome came, or -1. */
    int decidedIn = -1;
    private int feeding;
    private boolean inFeed;

    private Run(int[] cuts) {
      this.cuts = cuts;
    }

    static Run of(byte[] input, int[] cuts) {
      Run run = new Run(cuts);
      for (int i = 0; i <= cuts.length; i++) {
        run.feeding = i;
        run.inFeed = true;
        run.decoder.feed(Buffer.buffer(Arrays.copyOfRange(input, run.from(i), run.to(i, input.length))));
        run.inFeed = false;
        if (run.decidedIn < 0) {
          assertThat(run.decoder.buffered()).isLessThan(ProxyProtocolDecoder.V1_MAX_LENGTH);
        } else {
          assertThat(run.decoder.buffered()).isZero();
        }
      }
      return run;
    }

    int from(int feed) {
      return feed == 0 ? 0 : cuts[feed - 1];
    }

    int to(int feed, int length) {
      return feed < cuts.length ? cuts[feed] : length;
    }

    private void decided() {
      assertThat(inFeed).isTrue();
      assertThat(decidedIn).as("a second outcome").isEqualTo(-1);
      decidedIn = feeding;
      // A listener that feeds again from its callback is ignored.
      decoder.feed(Buffer.buffer(new byte[] {'P', 0x0D}));
    }

    @Override
    public void onProxyHeader(ProxyHeader header, Buffer leftover) {
      decided();
      this.header = header;
      this.leftover = leftover.getBytes();
    }

    @Override
    public void onProxyHeaderError(String reason) {
      decided();
      this.error = reason;
    }
  }
}
