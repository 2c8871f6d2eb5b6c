package dev.vxsocks.proxy.codec;

import io.vertx.core.buffer.Buffer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * Reads the PROXY protocol header (HAProxy's doc/proxy-protocol.txt, v1 §2.1 and v2 §2.2) that a trusted load
 * balancer puts in front of a connection, and hands over the header and the bytes behind it (the SOCKS5 greeting).
 *
 * <p>It is ours rather than Vert.x's {@code setUseProxyProtocol} because that applies to every connection of a server:
 * the caller runs this decoder only when the real peer is a trusted balancer, and then a header is mandatory (§2:
 * the receiver must not guess whether one is present). Anything that cannot be the start of a header is rejected at
 * the first byte that proves it, so a direct client on a balancer's address fails at once instead of waiting.
 *
 * <p>Memory is one 107-byte array: the v1 line (§2.1 caps it at 107 bytes with the CRLF), or the 16 fixed v2 bytes
 * and the 12 or 36 address bytes it parses. Other v2 bytes (a LOCAL or AF_UNIX address block, TLVs) are counted off,
 * never stored. Results go to the {@link Listener} as values, at the end of the {@link #feed} that completed them;
 * nothing is thrown for any input. Not thread-safe: one per connection, on its event loop.
 *
 * <p>Longer than our other classes for a reason: two wire formats share the byte-at-a-time state machine and its one
 * bounded buffer, and v1 needs strict address-literal parsers of its own ({@code InetAddress.getByName} would resolve
 * a name sent by the balancer).
 */
public final class ProxyProtocolDecoder {

  /** Receives the one outcome. */
  public interface Listener {
    /** The header, and the bytes that followed it in what was fed (possibly empty), untouched. */
    void onProxyHeader(ProxyHeader header, Buffer leftover);

    /**
     * Not a valid header; the connection must be closed. {@code reason} is one short line for the log (no raw bytes
     * beyond a few escaped ones).
     */
    void onProxyHeaderError(String reason);
  }

  /** §2.1: the longest v1 line a receiver must accept, CRLF included ("PROXY UNKNOWN", two full IPv6, two ports). */
  static final int V1_MAX_LENGTH = 107;

  /**
   * Our cap on a whole v2 header (16 fixed bytes + the length field). §2 designs headers to fit the smallest TCP
   * segment (536 bytes); what real balancers add stays far below that: AWS NLB one 0xEA TLV with the VPC endpoint id
   * (about 26 bytes), HAProxy ALPN, authority (a host name, at most 255), unique id (at most 128, §2.2.5), the SSL TLV
   * with a few short sub-TLVs, netns, CRC32C. 1536 is about one Ethernet frame: three times the spec's segment, room
   * for all of those at once, and yet a peer announcing a 64 KiB header is refused at its 16th byte instead of having
   * us swallow 64 KiB of what is really its payload. TLVs are never stored, so memory does not depend on this cap; it
   * bounds how much of the stream we consume as "header".
   */
  static final int V2_MAX_LENGTH = 1536;

  /** §2.1: "PROXY" and exactly one space. */
  private static final byte[] V1_PREFIX = {'P', 'R', 'O', 'X', 'Y', ' '};
  /** §2.2: the 12-byte v2 signature. Its first byte (CR) differs from v1's 'P', so one byte tells them apart. */
  private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  /** §2.2: signature, version/command, family/transport, 2-byte length. */
  private static final int V2_FIXED_LENGTH = 16;

  // §2.2, byte 13: high nibble version, low nibble command.
  private static final int V2_VERSION = 2;
  private static final int COMMAND_LOCAL = 0x0;
  private static final int COMMAND_PROXY = 0x1;
  // §2.2, byte 14: high nibble address family, low nibble transport.
  private static final int AF_UNSPEC = 0x0;
  private static final int AF_INET = 0x1;
  private static final int AF_INET6 = 0x2;
  private static final int AF_UNIX = 0x3;
  private static final int TRANSPORT_STREAM = 0x1;
  private static final int TRANSPORT_DGRAM = 0x2;
  // §2.2: address blocks (src, dst, then ports for INET/INET6).
  private static final int INET_BLOCK = 2 * 4 + 2 * 2;
  private static final int INET6_BLOCK = 2 * 16 + 2 * 2;
  private static final int UNIX_BLOCK = 2 * 108;

  /** At most how many characters a token takes in an error reason, escapes included: a reason stays one short line. */
  private static final int QUOTE_MAX = 40;

  private enum State {
    /** Nothing seen yet. */
    FIRST,
    /** In "PROXY " or the rest of a v1 line, up to its CRLF. */
    V1_LINE,
    /** In the 16 fixed v2 bytes. */
    V2_FIXED,
    /** In the v2 address block we parse (AF_INET or AF_INET6 over STREAM). */
    V2_ADDRESS,
    /** In v2 bytes we skip: an address block we do not use, then TLVs. */
    V2_SKIP,
    /** A header or an error is decided; nothing more is read. */
    DONE
  }

  private final Listener listener;
  /** The v1 line so far (without the LF), or the v2 fixed part and the parsed address block. */
  private final byte[] held = new byte[Math.max(V1_MAX_LENGTH, V2_FIXED_LENGTH + INET6_BLOCK)];
  private int count;
  private State state = State.FIRST;
  // v2, once read.
  private boolean proxyCommand;
  private int family;
  private int transport;
  /** Address bytes to keep after the fixed 16 (12, 36, or 0 when the header will be local). */
  private int keep;
  /** Bytes still to skip. */
  private int skip;
  // The outcome, reported at the end of the feed that decided it.
  private ProxyHeader header;
  private String error;

  public ProxyProtocolDecoder(Listener listener) {
    this.listener = listener;
  }

  /**
   * Feed the next bytes read from the connection (any split, including one byte at a time). After onProxyHeader or
   * onProxyHeaderError, further feeds are ignored.
   */
  public void feed(Buffer bytes) {
    if (state == State.DONE) {
      return;
    }
    int length = bytes.length();
    int i = 0;
    while (i < length && state != State.DONE) {
      switch (state) {
        case FIRST:
          firstByte(bytes.getUnsignedByte(i++));
          break;
        case V1_LINE:
          v1Byte(bytes.getUnsignedByte(i++));
          break;
        case V2_FIXED:
          v2FixedByte(bytes.getUnsignedByte(i++));
          break;
        case V2_ADDRESS: {
          int n = Math.min(V2_FIXED_LENGTH + keep - count, length - i);
          bytes.getBytes(i, i + n, held, count);
          count += n;
          i += n;
          if (count == V2_FIXED_LENGTH + keep) {
            afterV2Address();
          }
          break;
        }
        case V2_SKIP: {
          int n = Math.min(skip, length - i);
          skip -= n;
          i += n;
          if (skip == 0) {
            v2Complete();
          }
          break;
        }
        default:
          throw new IllegalStateException("state " + state);
      }
    }
    if (state != State.DONE) {
      return;
    }
    // Decided in this feed. Reported after the loop: i is then the first byte after the header, and a listener that
    // feeds us again from its callback finds us DONE.
    count = 0;
    if (error != null) {
      String reason = error;
      error = null;
      listener.onProxyHeaderError(reason);
    } else {
      ProxyHeader h = header;
      header = null;
      // A copy: the caller may reuse or release its buffer.
      listener.onProxyHeader(h, Buffer.buffer(bytes.getBytes(i, length)));
    }
  }

  /** How many bytes it currently holds (for tests: bounded). */
  public int buffered() {
    return count;
  }

  private void fail(String reason) {
    error = reason;
    state = State.DONE;
  }

  private void succeed(ProxyHeader h) {
    header = h;
    state = State.DONE;
  }

  // -----------------------------------------------------------------------------------------------------------------
  // Which version (§2.2, end: "Identifying the protocol version").

  private void firstByte(int b) {
    if (b == V1_PREFIX[0]) {
      state = State.V1_LINE;
    } else if (b == (V2_SIGNATURE[0] & 0xFF)) {
      state = State.V2_FIXED;
    } else {
      fail("not a PROXY protocol header (first byte " + hex(b) + ")");
      return;
    }
    held[count++] = (byte) b;
  }

  /** Byte {@code index} (0-based) should have been {@code expected}; the reason numbers bytes from 1. */
  private void failPrefix(int index, int b, int expected) {
    fail("not a PROXY protocol header (byte " + (index + 1) + " is " + hex(b) + ", not " + hex(expected) + ")");
  }

  // -----------------------------------------------------------------------------------------------------------------
  // v1 (§2.1).

  private void v1Byte(int b) {
    if (count < V1_PREFIX.length) {
      if (b != V1_PREFIX[count]) {
        failPrefix(count, b, V1_PREFIX[count]);
        return;
      }
      held[count++] = (byte) b;
      return;
    }
    // §2.1: "The receiver must not tolerate a single CR or LF character to end the line".
    if (held[count - 1] == '\r') {
      if (b == '\n') {
        // The line is held[0, count - 1): without its CR (held) and LF (not stored).
        v1Line(count - 1);
      } else {
        fail("v1 header has a CR not followed by LF");
      }
      return;
    }
    if (b == '\n') {
      fail("v1 header ends in LF without CR");
      return;
    }
    // This byte is not the LF; if it is the 107th, the CRLF cannot end within 107 bytes (§2.1: "If the CRLF sequence
    // is not found in the first 107 characters, the receiver should declare the line invalid"). So at most 106 bytes
    // are ever held.
    if (count == V1_MAX_LENGTH - 1) {
      fail("v1 header longer than " + V1_MAX_LENGTH + " bytes");
      return;
    }
    held[count++] = (byte) b;
  }

  /** Parses held[0, end), the line without CRLF, known to start with "PROXY ". */
  private void v1Line(int end) {
    // ISO-8859-1 maps each byte to one char, so nothing is lost or merged; the checks below accept ASCII only.
    String rest = new String(held, V1_PREFIX.length, end - V1_PREFIX.length, StandardCharsets.ISO_8859_1);
    int space = rest.indexOf(' ');
    String protocol = space < 0 ? rest : rest.substring(0, space);
    if (protocol.equals("UNKNOWN")) {
      // §2.1: for UNKNOWN "the receiver must ignore anything presented before the CRLF", and use the real addresses.
      succeed(ProxyHeader.local(1));
      return;
    }
    boolean tcp4 = protocol.equals("TCP4");
    if (!tcp4 && !protocol.equals("TCP6")) {
      fail("v1 protocol " + quote(protocol) + " is not TCP4, TCP6 or UNKNOWN");
      return;
    }
    // §2.1: exactly one space between fields, so an empty field (two spaces, a trailing space) is a wrong count or an
    // empty value, both rejected below.
    String[] fields = rest.split(" ", -1);
    if (fields.length != 5) {
      fail("v1 " + protocol + " line does not have 5 fields separated by single spaces");
      return;
    }
    byte[] src = tcp4 ? ipv4(fields[1]) : ipv6(fields[1]);
    if (src == null) {
      fail(badAddress(protocol, "source", fields[1]));
      return;
    }
    byte[] dst = tcp4 ? ipv4(fields[2]) : ipv6(fields[2]);
    if (dst == null) {
      fail(badAddress(protocol, "destination", fields[2]));
      return;
    }
    int sport = port(fields[3]);
    if (sport < 0) {
      fail("v1 source port " + quote(fields[3]) + " is not a decimal number in 0-65535");
      return;
    }
    int dport = port(fields[4]);
    if (dport < 0) {
      fail("v1 destination port " + quote(fields[4]) + " is not a decimal number in 0-65535");
      return;
    }
    succeed(new ProxyHeader(1, false, socketAddress(src, sport), socketAddress(dst, dport)));
  }

  private static String badAddress(String protocol, String which, String token) {
    return "v1 " + protocol + " " + which + " address " + quote(token) + " is not an "
        + (protocol.equals("TCP4") ? "IPv4" : "IPv6") + " address";
  }

  /**
   * §2.1: exactly 4 decimal integers 0-255 separated by single dots, no heading zeroes ("to avoid any possible
   * confusion with octal numbers"). Null if {@code s} is anything else. Our own parser so that no name can ever reach
   * a resolver.
   */
  private static byte[] ipv4(String s) {
    byte[] out = new byte[4];
    int n = s.length();
    int i = 0;
    for (int part = 0; part < 4; part++) {
      if (part > 0) {
        if (i >= n || s.charAt(i) != '.') {
          return null;
        }
        i++;
      }
      int start = i;
      int value = 0;
      while (i < n && i - start < 3 && isDigit(s.charAt(i))) {
        value = value * 10 + (s.charAt(i) - '0');
        i++;
      }
      if (i == start || value > 255 || (i - start > 1 && s.charAt(start) == '0')) {
        return null;
      }
      out[part] = (byte) value;
    }
    return i == n ? out : null;
  }

  /**
   * §2.1: groups of 1 to 4 hex digits (either case) separated by colons, with at most one "::" standing for one or
   * more zero groups, 128 bits in all. Null if {@code s} is anything else (zone ids, brackets, names). Beyond the
   * spec's wording we accept a dotted IPv4 tail in the last 32 bits (RFC 4291 §2.2 form 3): inet_ntop, which
   * HAProxy's v1 sender uses, and nginx both print an IPv4-mapped address as {@code ::ffff:192.0.2.1}, which a
   * dual-stack balancer does send. Still digits, dots and colons only: never a name.
   */
  private static byte[] ipv6(String s) {
    int gap = s.indexOf("::");
    if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
      return null;
    }
    int[] head = new int[8];
    int[] tail = new int[8];
    int headCount;
    int tailCount = 0;
    if (gap < 0) {
      headCount = ipv6Groups(s, true, head);
      if (headCount != 8) {
        return null;
      }
    } else {
      headCount = ipv6Groups(s.substring(0, gap), false, head);
      tailCount = ipv6Groups(s.substring(gap + 2), true, tail);
      // "::" stands for at least one group (RFC 4291 §2.2), so at most 7 are written out.
      if (headCount < 0 || tailCount < 0 || headCount + tailCount > 7) {
        return null;
      }
    }
    byte[] out = new byte[16];
    for (int g = 0; g < headCount; g++) {
      out[2 * g] = (byte) (head[g] >> 8);
      out[2 * g + 1] = (byte) head[g];
    }
    for (int g = 0; g < tailCount; g++) {
      int at = 8 - tailCount + g;
      out[2 * at] = (byte) (tail[g] >> 8);
      out[2 * at + 1] = (byte) tail[g];
    }
    return out;
  }

  /**
   * Parses colon-separated groups (no "::" in {@code s}) into {@code out}. If {@code endsAddress} (nothing follows
   * {@code s} in the address), its last group may be a dotted IPv4 address, which counts as two. Returns how many
   * groups, 0 for an empty string, or -1 if malformed or more than 8.
   */
  private static int ipv6Groups(String s, boolean endsAddress, int[] out) {
    if (s.isEmpty()) {
      return 0;
    }
    int k = 0;
    int start = 0;
    while (true) {
      int colon = s.indexOf(':', start);
      int end = colon < 0 ? s.length() : colon;
      String group = s.substring(start, end);
      if (endsAddress && colon < 0 && group.indexOf('.') >= 0) {
        byte[] v4 = ipv4(group);
        if (v4 == null || k + 2 > 8) {
          return -1;
        }
        out[k++] = (v4[0] & 0xFF) << 8 | (v4[1] & 0xFF);
        out[k++] = (v4[2] & 0xFF) << 8 | (v4[3] & 0xFF);
        return k;
      }
      if (group.isEmpty() || group.length() > 4 || k == 8) {
        return -1;
      }
      int value = 0;
      for (int j = 0; j < group.length(); j++) {
        int d = hexDigit(group.charAt(j));
        if (d < 0) {
          return -1;
        }
        value = value << 4 | d;
      }
      out[k++] = value;
      if (colon < 0) {
        return k;
      }
      start = colon + 1;
    }
  }

  /** §2.1: decimal 0-65535 without heading zeroes; no sign. -1 otherwise. */
  private static int port(String s) {
    int n = s.length();
    if (n == 0 || n > 5 || (n > 1 && s.charAt(0) == '0')) {
      return -1;
    }
    int value = 0;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (!isDigit(c)) {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value <= 0xFFFF ? value : -1;
  }

  /** ASCII only: Character.isDigit would also take other scripts' digits. */
  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  // -----------------------------------------------------------------------------------------------------------------
  // v2 (§2.2).

  private void v2FixedByte(int b) {
    int index = count;
    held[count++] = (byte) b;
    if (index < V2_SIGNATURE.length) {
      if (b != (V2_SIGNATURE[index] & 0xFF)) {
        failPrefix(index, b, V2_SIGNATURE[index] & 0xFF);
      }
    } else if (index == 12) {
      // §2.2: "the receiver must only accept" version 2; other commands: "Receivers must drop connections".
      int version = b >> 4;
      int command = b & 0x0F;
      if (version != V2_VERSION) {
        fail("v2 version " + version + " is not 2 (version/command byte " + hex(b) + ")");
      } else if (command != COMMAND_LOCAL && command != COMMAND_PROXY) {
        fail("v2 command " + command + " is neither LOCAL (0) nor PROXY (1)");
      } else {
        proxyCommand = command == COMMAND_PROXY;
      }
    } else if (index == 13) {
      family = b >> 4;
      transport = b & 0x0F;
      // §2.2: for LOCAL the receiver must "discard the protocol block including the family which is ignored", so
      // only a PROXY command has its family and transport checked; unassigned values "must be rejected".
      if (proxyCommand && family > AF_UNIX) {
        fail("v2 address family " + family + " is unknown (family/transport byte " + hex(b) + ")");
      } else if (proxyCommand && transport > TRANSPORT_DGRAM) {
        fail("v2 transport " + transport + " is unknown (family/transport byte " + hex(b) + ")");
      }
    } else if (index == V2_FIXED_LENGTH - 1) {
      v2Length((held[14] & 0xFF) << 8 | b);
    }
  }

  /** The 15th and 16th bytes: how many bytes follow the fixed 16 (§2.2), unsigned. */
  private void v2Length(int length) {
    if (V2_FIXED_LENGTH + length > V2_MAX_LENGTH) {
      fail("v2 header length " + (V2_FIXED_LENGTH + length) + " exceeds " + V2_MAX_LENGTH);
      return;
    }
    keep = 0;
    if (proxyCommand) {
      int block = family == AF_INET ? INET_BLOCK
          : family == AF_INET6 ? INET6_BLOCK
          : family == AF_UNIX ? UNIX_BLOCK
          : 0;
      if (length < block) {
        fail("v2 address length " + length + " is shorter than the " + block + "-byte " + familyName(family)
            + " block");
        return;
      }
      if (transport == TRANSPORT_STREAM && (family == AF_INET || family == AF_INET6)) {
        keep = block;
      }
    }
    // §2.2: "Receivers MUST always consider this field to skip the appropriate number of bytes", LOCAL included.
    // Beyond the address block come TLVs (§2.2, pp2_tlv). We do not parse or validate them, not even their framing:
    // this length alone says where the header ends, so a malformed TLV cannot move that boundary, and nothing we do
    // depends on a TLV (a CRC32C, §2.2.3, would guard the header against corruption TCP already checks for).
    skip = length - keep;
    if (keep > 0) {
      state = State.V2_ADDRESS;
    } else if (skip > 0) {
      state = State.V2_SKIP;
    } else {
      v2Complete();
    }
  }

  private void afterV2Address() {
    if (skip > 0) {
      state = State.V2_SKIP;
    } else {
      v2Complete();
    }
  }

  private void v2Complete() {
    if (keep == 0) {
      // LOCAL; or PROXY over AF_UNSPEC, AF_UNIX, or a transport other than STREAM: use the real endpoints.
      succeed(ProxyHeader.local(2));
      return;
    }
    // §2.2 proxy_addr: src address, dst address, src port, dst port, all in network byte order.
    int addressLength = family == AF_INET ? 4 : 16;
    int at = V2_FIXED_LENGTH;
    byte[] src = new byte[addressLength];
    byte[] dst = new byte[addressLength];
    System.arraycopy(held, at, src, 0, addressLength);
    System.arraycopy(held, at + addressLength, dst, 0, addressLength);
    int ports = at + 2 * addressLength;
    int sport = (held[ports] & 0xFF) << 8 | (held[ports + 1] & 0xFF);
    int dport = (held[ports + 2] & 0xFF) << 8 | (held[ports + 3] & 0xFF);
    succeed(new ProxyHeader(2, false, socketAddress(src, sport), socketAddress(dst, dport)));
  }

  private static String familyName(int family) {
    switch (family) {
      case AF_INET: return "AF_INET";
      case AF_INET6: return "AF_INET6";
      case AF_UNIX: return "AF_UNIX";
      default: return "AF_UNSPEC";
    }
  }

  // -----------------------------------------------------------------------------------------------------------------

  /** From 4 or 16 bytes: no lookup. An IPv4-mapped IPv6 address becomes an Inet4Address (Java's choice). */
  private static InetSocketAddress socketAddress(byte[] address, int port) {
    try {
      return new InetSocketAddress(InetAddress.getByAddress(address), port);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("a 4 or 16 byte address is always valid", e);
    }
  }

  private static String hex(int b) {
    return String.format("0x%02X", b);
  }

  /**
   * A token for a reason, in quotes: printable ASCII kept, anything else (the token comes from the peer) as \xNN,
   * cut with "..." after QUOTE_MAX characters.
   */
  private static String quote(String s) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    for (; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean plain = c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
      String shown = plain ? String.valueOf(c) : String.format("\\x%02X", (int) c);
      if (out.length() + shown.length() > QUOTE_MAX) {
        break;
      }
      out.append(shown);
    }
    return "\"" + out + (i < s.length() ? "..." : "") + "\"";
  }
}
