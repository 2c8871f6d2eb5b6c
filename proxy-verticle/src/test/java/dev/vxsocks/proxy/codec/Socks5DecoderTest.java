package dev.vxsocks.proxy.codec;

import dev.vxsocks.proxy.codec.Socks5ProtocolException.Kind;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.vxsocks.testing.Bytes.bytes;
import static dev.vxsocks.testing.Bytes.concat;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Byte-literal fixtures (never produced by {@link Socks5Encoder}) fed whole, split into two buffers at every index,
 * and one byte at a time. The test listener plays the session: it answers each greeting with
 * {@code expectPasswordRequest()} or {@code expectCommandRequest()} either synchronously inside the callback or
 * deferred, after {@code feed} has returned.
 */
class Socks5DecoderTest {

  // ---------------------------------------------------------------------------------------------------------------
  // Fixtures. Every one is written out byte by byte.

  /** VER 5, NMETHODS 1, NO AUTH. */
  private static final byte[] GREETING_NO_AUTH = bytes(0x05, 0x01, 0x00);
  /** VER 5, NMETHODS 1, USERNAME/PASSWORD. */
  private static final byte[] GREETING_PASSWORD = bytes(0x05, 0x01, 0x02);
  /** VER 5, NMETHODS 4: NO AUTH, GSSAPI, USERNAME/PASSWORD, 0x80 (private range, unknown to us). */
  private static final byte[] GREETING_FOUR = bytes(0x05, 0x04, 0x00, 0x01, 0x02, 0x80);
  /** VER 5, NMETHODS 0. */
  private static final byte[] GREETING_EMPTY = bytes(0x05, 0x00);
  /** VER 5, NMETHODS 2: 0xFF and 0x03 (both values we never choose, kept as values). */
  private static final byte[] GREETING_ODD_METHODS = bytes(0x05, 0x02, 0xFF, 0x03);

  /** RFC 1929: VER 1, ULEN 5 "alice", PLEN 6 "secret". */
  private static final byte[] AUTH_ALICE = bytes(0x01, 0x05, 'a', 'l', 'i', 'c', 'e', 0x06, 's', 'e', 'c', 'r', 'e', 't');
  /** ULEN 0, PLEN 3 "abc". */
  private static final byte[] AUTH_NO_USER = bytes(0x01, 0x00, 0x03, 'a', 'b', 'c');
  /** ULEN 3 "bob", PLEN 0. */
  private static final byte[] AUTH_NO_PASSWORD = bytes(0x01, 0x03, 'b', 'o', 'b', 0x00);
  /** ULEN 0, PLEN 0. */
  private static final byte[] AUTH_BOTH_EMPTY = bytes(0x01, 0x00, 0x00);
  /** ULEN 7 "jürgen" in UTF-8 (ü = C3 BC), PLEN 5 "€12" in UTF-8 (€ = E2 82 AC). */
  private static final byte[] AUTH_UTF8 = bytes(0x01, 0x07, 'j', 0xC3, 0xBC, 'r', 'g', 'e', 'n',
      0x05, 0xE2, 0x82, 0xAC, '1', '2');
  /** VER 5 instead of 1 in the sub-negotiation. */
  private static final byte[] AUTH_BAD_VERSION = bytes(0x05, 0x05, 'a', 'l', 'i', 'c', 'e', 0x06, 's', 'e', 'c', 'r', 'e', 't');

  /** CONNECT 192.168.1.2:443. */
  private static final byte[] REQ_IPV4 = bytes(0x05, 0x01, 0x00, 0x01, 0xC0, 0xA8, 0x01, 0x02, 0x01, 0xBB);
  /** CONNECT 255.255.255.255:32768 (every byte has its high bit set: must be read unsigned). */
  private static final byte[] REQ_IPV4_HIGH = bytes(0x05, 0x01, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x00);
  /** BIND [2001:db8::1]:65535. */
  private static final byte[] REQ_IPV6 = bytes(0x05, 0x02, 0x00, 0x04,
      0x20, 0x01, 0x0D, 0xB8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
      0xFF, 0xFF);
  /** CONNECT [fe80::a:b0c]:0. */
  private static final byte[] REQ_IPV6_LINK_LOCAL = bytes(0x05, 0x01, 0x00, 0x04,
      0xFE, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x0B, 0x0C,
      0x00, 0x00);
  /** CONNECT [::ffff:127.0.0.1]:80, an IPv4-mapped IPv6 address. */
  private static final byte[] REQ_IPV6_MAPPED = bytes(0x05, 0x01, 0x00, 0x04,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x7F, 0x00, 0x00, 0x01,
      0x00, 0x50);
  /** UDP ASSOCIATE example.com:80. */
  private static final byte[] REQ_DOMAIN = bytes(0x05, 0x03, 0x00, 0x03, 0x0B,
      'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0x00, 0x50);
  /** CONNECT "a":1 (shortest domain). */
  private static final byte[] REQ_DOMAIN_ONE = bytes(0x05, 0x01, 0x00, 0x03, 0x01, 'a', 0x00, 0x01);
  /** CMD 0x09 (unknown), RSV 0x7F (non-zero), 10.0.0.1:8080. */
  private static final byte[] REQ_UNKNOWN_CMD_RSV = bytes(0x05, 0x09, 0x7F, 0x01, 0x0A, 0x00, 0x00, 0x01, 0x1F, 0x90);
  /** CMD 0x00 (unknown), domain "x.y":22. */
  private static final byte[] REQ_CMD_ZERO = bytes(0x05, 0x00, 0x00, 0x03, 0x03, 'x', '.', 'y', 0x00, 0x16);
  /** VER 4 in a request. */
  private static final byte[] REQ_BAD_VERSION = bytes(0x04, 0x01, 0x00, 0x01, 0x7F, 0x00, 0x00, 0x01, 0x00, 0x50);
  /** ATYP 0x02 (unassigned). */
  private static final byte[] REQ_ATYP_2 = bytes(0x05, 0x01, 0x00, 0x02, 0x7F, 0x00, 0x00, 0x01, 0x00, 0x50);
  /** ATYP 0x00. */
  private static final byte[] REQ_ATYP_0 = bytes(0x05, 0x01, 0x00, 0x00, 0x7F, 0x00, 0x00, 0x01, 0x00, 0x50);
  /** ATYP 0xFF. */
  private static final byte[] REQ_ATYP_FF = bytes(0x05, 0x01, 0x00, 0xFF, 0x7F, 0x00, 0x00, 0x01, 0x00, 0x50);
  /** ATYP 3 with length 0, then a port. */
  private static final byte[] REQ_EMPTY_DOMAIN = bytes(0x05, 0x01, 0x00, 0x03, 0x00, 0x00, 0x50);

  /** Application bytes a client pipelines behind its request: an HTTP request, then bytes that look like SOCKS. */
  private static final byte[] PAYLOAD = concat(
      "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
      bytes(0x05, 0x01, 0x00, 0x00, 0xFF, 0x01, 0x03, 0x00));

  // ---------------------------------------------------------------------------------------------------------------
  // The session the tests play.

  /** When the test session answers a greeting / password request. */
  enum Mode {
    /** Inside the listener callback. */
    SYNC,
    /** After feed() has returned (as a session that first asks the auth verticle would). */
    DEFERRED
  }

  /** What a decoded error looks like in the event list (the exception is not a value type). */
  record Error(Kind kind) {
  }

  /** Records events and answers them the way a session would. */
  static final class Session implements Socks5Decoder.Listener {
    final Mode mode;
    final List<Object> events = new ArrayList<>();
    final Deque<Runnable> pending = new ArrayDeque<>();
    /** Which method the session "chooses" on a greeting: password or not. */
    final boolean choosePassword;
    Socks5Decoder decoder;

    Session(Mode mode, boolean choosePassword) {
      this.mode = mode;
      this.choosePassword = choosePassword;
    }

    private void next(Runnable r) {
      if (mode == Mode.SYNC) {
        r.run();
      } else {
        pending.add(r);
      }
    }

    @Override
    public void onGreeting(Socks5Greeting greeting) {
      events.add(greeting);
      next(choosePassword ? decoder::expectPasswordRequest : decoder::expectCommandRequest);
    }

    @Override
    public void onPasswordRequest(Socks5PasswordRequest request) {
      events.add(request);
      next(decoder::expectCommandRequest);
    }

    @Override
    public void onCommandRequest(Socks5CommandRequest request) {
      events.add(request);
    }

    @Override
    public void onProtocolError(Socks5ProtocolException error) {
      events.add(new Error(error.kind()));
    }

    /** Feeds one chunk, then (deferred mode) runs what the session put off, until nothing is left. */
    void feed(byte[] chunk) {
      // A fresh Buffer each time: the caller's buffer must not be shared between feeds.
      decoder.feed(Buffer.buffer(chunk));
      Runnable r;
      while ((r = pending.poll()) != null) {
        r.run();
      }
    }
  }

  private static Session session(Mode mode, boolean choosePassword) {
    Session s = new Session(mode, choosePassword);
    s.decoder = new Socks5Decoder(s);
    return s;
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
      out.add(new Chunking("split@" + i, List.of(Arrays.copyOfRange(input, 0, i), Arrays.copyOfRange(input, i, input.length))));
    }
    List<byte[]> single = new ArrayList<>();
    for (byte b : input) {
      single.add(new byte[] {b});
    }
    out.add(new Chunking("bytewise", single));
    return out;
  }

  /**
   * One dynamic container per mode, holding one test per chunking: the concatenation of {@code parts} decodes to
   * exactly {@code expected}.
   */
  private static DynamicContainer decodes(String name, boolean choosePassword, byte[] input, List<Object> expected,
                                          Consumer<Session> extra) {
    List<DynamicNode> modes = new ArrayList<>();
    for (Mode mode : Mode.values()) {
      List<DynamicTest> tests = new ArrayList<>();
      for (Chunking c : chunkings(input)) {
        tests.add(DynamicTest.dynamicTest(c.name(), () -> {
          Session s = session(mode, choosePassword);
          c.chunks().forEach(s::feed);
          assertThat(s.events).as("events of %s, %s, %s", name, mode, c.name()).containsExactlyElementsOf(expected);
          extra.accept(s);
        }));
      }
      modes.add(DynamicContainer.dynamicContainer(mode.name(), tests));
    }
    return DynamicContainer.dynamicContainer(name, modes);
  }

  private static DynamicContainer decodes(String name, boolean choosePassword, byte[] input, List<Object> expected) {
    return decodes(name, choosePassword, input, expected, s -> { });
  }

  private static Socks5Greeting greeting(AuthMethod... methods) {
    return new Socks5Greeting(List.of(methods));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Greetings.

  @TestFactory
  Stream<DynamicNode> greetings() {
    return Stream.of(
        decodes("one method", false, GREETING_NO_AUTH, List.of(greeting(AuthMethod.NO_AUTH)),
            s -> assertThat(s.decoder.stage()).isEqualTo("request")),
        decodes("four methods incl. unknown 0x80", false, GREETING_FOUR, List.of(greeting(
            AuthMethod.NO_AUTH, AuthMethod.GSSAPI, AuthMethod.USERNAME_PASSWORD, new AuthMethod(0x80)))),
        decodes("NMETHODS 0", false, GREETING_EMPTY, List.of(greeting())),
        decodes("0xFF and 0x03 kept as values", false, GREETING_ODD_METHODS,
            List.of(greeting(AuthMethod.NO_ACCEPTABLE_METHODS, new AuthMethod(0x03)))),
        decodes("bad VER 4", false, bytes(0x04, 0x01, 0x00), List.of(new Error(Kind.BAD_VERSION))),
        decodes("bad VER 0 with NMETHODS 0", false, bytes(0x00, 0x00), List.of(new Error(Kind.BAD_VERSION))),
        // SOCKS4 CONNECT: VER 4, CMD 1, port 80, 127.0.0.1, empty user id.
        decodes("a SOCKS4 request", false, bytes(0x04, 0x01, 0x00, 0x50, 0x7F, 0x00, 0x00, 0x01, 0x00),
            List.of(new Error(Kind.BAD_VERSION)),
            s -> assertThat(s.decoder.stage()).isEqualTo("done")));
  }

  @Test
  void unknownMethodIsAValueNotAConstant() {
    Session s = session(Mode.SYNC, false);
    s.feed(GREETING_FOUR);
    Socks5Greeting g = (Socks5Greeting) s.events.get(0);
    assertThat(g.methods().get(3).code()).isEqualTo(0x80);
    assertThat(g.methods().get(3).toString()).isEqualTo("method-0x80");
  }

  @Test
  void greetingIsNotEmittedBeforeItsLastMethodByte() {
    Session s = session(Mode.SYNC, false);
    s.feed(bytes(0x05, 0x03, 0x00, 0x02));
    assertThat(s.events).isEmpty();
    assertThat(s.decoder.stage()).isEqualTo("greeting");
    s.feed(bytes(0x80));
    assertThat(s.events).containsExactly(greeting(AuthMethod.NO_AUTH, AuthMethod.USERNAME_PASSWORD, new AuthMethod(0x80)));
  }

  @Test
  void waitsForTheSessionAfterTheGreeting() {
    Session s = session(Mode.DEFERRED, false);
    // Do not run the pending expect: feed straight into the decoder.
    s.decoder.feed(Buffer.buffer(concat(GREETING_NO_AUTH, REQ_IPV4)));
    assertThat(s.events).containsExactly(greeting(AuthMethod.NO_AUTH));
    assertThat(s.decoder.stage()).isEqualTo("waiting");
    s.pending.poll().run();
    assertThat(s.events).hasSize(2);
    assertThat(s.events.get(1)).isEqualTo(new Socks5CommandRequest(Command.CONNECT, 0, AddressType.IPV4, "192.168.1.2", 443));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // RFC 1929 requests (after a greeting offering 0x02, the session chooses it).

  @TestFactory
  Stream<DynamicNode> passwordRequests() {
    Socks5Greeting g = greeting(AuthMethod.USERNAME_PASSWORD);
    return Stream.of(
        decodes("normal", true, concat(GREETING_PASSWORD, AUTH_ALICE),
            List.of(g, new Socks5PasswordRequest("alice", "secret")),
            s -> assertThat(s.decoder.stage()).isEqualTo("request")),
        decodes("ULEN 0", true, concat(GREETING_PASSWORD, AUTH_NO_USER), List.of(g, new Socks5PasswordRequest("", "abc"))),
        decodes("PLEN 0", true, concat(GREETING_PASSWORD, AUTH_NO_PASSWORD), List.of(g, new Socks5PasswordRequest("bob", ""))),
        decodes("ULEN 0 and PLEN 0", true, concat(GREETING_PASSWORD, AUTH_BOTH_EMPTY), List.of(g, new Socks5PasswordRequest("", ""))),
        decodes("UTF-8 user name and password", true, concat(GREETING_PASSWORD, AUTH_UTF8),
            List.of(g, new Socks5PasswordRequest("j\u00fcrgen", "\u20ac12"))),
        decodes("255-byte user name and password", true, concat(GREETING_PASSWORD, auth255()),
            List.of(g, new Socks5PasswordRequest("u".repeat(255), "p".repeat(255)))),
        decodes("bad auth VER 5", true, concat(GREETING_PASSWORD, AUTH_BAD_VERSION),
            List.of(g, new Error(Kind.BAD_AUTH_VERSION))),
        decodes("bad auth VER 0", true, concat(GREETING_PASSWORD, bytes(0x00, 0x00, 0x00)),
            List.of(g, new Error(Kind.BAD_AUTH_VERSION))),
        // 0xC3 0x28 and a lone 0xFF are not UTF-8; read leniently both would be U+FFFD and the passwords "\uFFFD("
        // and "\uFFFD" could match what two other byte strings also read as.
        decodes("password not UTF-8", true, concat(GREETING_PASSWORD, bytes(0x01, 0x01, 'a', 0x02, 0xC3, 0x28)),
            List.of(g, new Error(Kind.BAD_AUTH_ENCODING))),
        decodes("user name not UTF-8", true, concat(GREETING_PASSWORD, bytes(0x01, 0x01, 0xFF, 0x01, 'x')),
            List.of(g, new Error(Kind.BAD_AUTH_ENCODING))),
        decodes("user name not UTF-8, PLEN 0", true, concat(GREETING_PASSWORD, bytes(0x01, 0x02, 0xC0, 0x80, 0x00)),
            List.of(g, new Error(Kind.BAD_AUTH_ENCODING))),
        decodes("password a lone surrogate's encoding", true,
            concat(GREETING_PASSWORD, bytes(0x01, 0x01, 'a', 0x03, 0xED, 0xA0, 0x80)),
            List.of(g, new Error(Kind.BAD_AUTH_ENCODING))));
  }

  private static byte[] auth255() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0x01);
    b.write(0xFF);
    for (int i = 0; i < 255; i++) {
      b.write('u');
    }
    b.write(0xFF);
    for (int i = 0; i < 255; i++) {
      b.write('p');
    }
    return b.toByteArray();
  }

  @Test
  void passwordRequestToStringHidesThePassword() {
    assertThat(new Socks5PasswordRequest("alice", "secret").toString()).doesNotContain("secret").contains("alice");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Requests (after a greeting offering 0x00, the session chooses no auth).

  @TestFactory
  Stream<DynamicNode> commandRequests() {
    Socks5Greeting g = greeting(AuthMethod.NO_AUTH);
    return Stream.of(
        decodes("IPv4", false, concat(GREETING_NO_AUTH, REQ_IPV4),
            List.of(g, new Socks5CommandRequest(Command.CONNECT, 0, AddressType.IPV4, "192.168.1.2", 443)),
            s -> assertThat(s.decoder.stage()).isEqualTo("waiting")),
        decodes("IPv4 with high bits set", false, concat(GREETING_NO_AUTH, REQ_IPV4_HIGH),
            List.of(g, new Socks5CommandRequest(Command.CONNECT, 0, AddressType.IPV4, "255.255.255.255", 32768))),
        decodes("IPv6", false, concat(GREETING_NO_AUTH, REQ_IPV6),
            List.of(g, new Socks5CommandRequest(Command.BIND, 0, AddressType.IPV6, "2001:db8:0:0:0:0:0:1", 65535))),
        decodes("IPv6 link-local, port 0", false, concat(GREETING_NO_AUTH, REQ_IPV6_LINK_LOCAL),
            List.of(g, new Socks5CommandRequest(Command.CONNECT, 0, AddressType.IPV6, "fe80:0:0:0:0:0:a:b0c", 0))),
        // Java turns an IPv4-mapped IPv6 address into an Inet4Address: the decoder reports the dotted form (the
        // address actually reached), with the ATYP the client sent.
        decodes("IPv4-mapped IPv6", false, concat(GREETING_NO_AUTH, REQ_IPV6_MAPPED),
            List.of(g, new Socks5CommandRequest(Command.CONNECT, 0, AddressType.IPV6, "127.0.0.1", 80))),
        decodes("domain", false, concat(GREETING_NO_AUTH, REQ_DOMAIN),
            List.of(g, new Socks5CommandRequest(Command.UDP_ASSOCIATE, 0, AddressType.DOMAIN, "example.com", 80))),
        decodes("one-letter domain", false, concat(GREETING_NO_AUTH, REQ_DOMAIN_ONE),
            List.of(g, new Socks5CommandRequest(Command.CONNECT, 0, AddressType.DOMAIN, "a", 1))),
        decodes("255-byte domain", false, concat(GREETING_NO_AUTH, domain255()),
            List.of(g, new Socks5CommandRequest(Command.CONNECT, 0, AddressType.DOMAIN, "d".repeat(251) + ".com", 443))),
        decodes("unknown CMD 0x09, RSV 0x7F kept", false, concat(GREETING_NO_AUTH, REQ_UNKNOWN_CMD_RSV),
            List.of(g, new Socks5CommandRequest(new Command(0x09), 0x7F, AddressType.IPV4, "10.0.0.1", 8080))),
        decodes("CMD 0x00 with a domain", false, concat(GREETING_NO_AUTH, REQ_CMD_ZERO),
            List.of(g, new Socks5CommandRequest(new Command(0x00), 0, AddressType.DOMAIN, "x.y", 22))),
        decodes("bad request VER", false, concat(GREETING_NO_AUTH, REQ_BAD_VERSION),
            List.of(g, new Error(Kind.BAD_VERSION))),
        decodes("ATYP 0x02", false, concat(GREETING_NO_AUTH, REQ_ATYP_2),
            List.of(g, new Error(Kind.UNSUPPORTED_ADDRESS_TYPE))),
        decodes("ATYP 0x00", false, concat(GREETING_NO_AUTH, REQ_ATYP_0),
            List.of(g, new Error(Kind.UNSUPPORTED_ADDRESS_TYPE))),
        decodes("ATYP 0xFF", false, concat(GREETING_NO_AUTH, REQ_ATYP_FF),
            List.of(g, new Error(Kind.UNSUPPORTED_ADDRESS_TYPE))),
        decodes("domain length 0", false, concat(GREETING_NO_AUTH, REQ_EMPTY_DOMAIN),
            List.of(g, new Error(Kind.EMPTY_DOMAIN))),
        // After authentication, every ATYP.
        decodes("password then IPv4", true, concat(GREETING_PASSWORD, AUTH_ALICE, REQ_IPV4),
            List.of(greeting(AuthMethod.USERNAME_PASSWORD), new Socks5PasswordRequest("alice", "secret"),
                new Socks5CommandRequest(Command.CONNECT, 0, AddressType.IPV4, "192.168.1.2", 443))),
        decodes("password then IPv6", true, concat(GREETING_PASSWORD, AUTH_ALICE, REQ_IPV6),
            List.of(greeting(AuthMethod.USERNAME_PASSWORD), new Socks5PasswordRequest("alice", "secret"),
                new Socks5CommandRequest(Command.BIND, 0, AddressType.IPV6, "2001:db8:0:0:0:0:0:1", 65535))),
        decodes("password then domain", true, concat(GREETING_PASSWORD, AUTH_ALICE, REQ_DOMAIN),
            List.of(greeting(AuthMethod.USERNAME_PASSWORD), new Socks5PasswordRequest("alice", "secret"),
                new Socks5CommandRequest(Command.UDP_ASSOCIATE, 0, AddressType.DOMAIN, "example.com", 80))),
        decodes("password (both empty) then unknown ATYP", true, concat(GREETING_PASSWORD, AUTH_BOTH_EMPTY, REQ_ATYP_2),
            List.of(greeting(AuthMethod.USERNAME_PASSWORD), new Socks5PasswordRequest("", ""),
                new Error(Kind.UNSUPPORTED_ADDRESS_TYPE))));
  }

  private static byte[] domain255() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(bytes(0x05, 0x01, 0x00, 0x03, 0xFF));
    for (int i = 0; i < 251; i++) {
      b.write('d');
    }
    b.writeBytes(".com".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    b.writeBytes(bytes(0x01, 0xBB));
    return b.toByteArray();
  }

  @Test
  void unknownCommandIsNotKnown() {
    Session s = session(Mode.SYNC, false);
    s.feed(concat(GREETING_NO_AUTH, REQ_UNKNOWN_CMD_RSV));
    Socks5CommandRequest r = (Socks5CommandRequest) s.events.get(1);
    assertThat(r.command().isKnown()).isFalse();
    assertThat(r.command().code()).isEqualTo(0x09);
    assertThat(r.rsv()).isEqualTo(0x7F);
    assertThat(Command.CONNECT.isKnown()).isTrue();
    assertThat(Command.BIND.isKnown()).isTrue();
    assertThat(Command.UDP_ASSOCIATE.isKnown()).isTrue();
    assertThat(Command.valueOf(0x00).isKnown()).isFalse();
    assertThat(Command.valueOf(0x04).isKnown()).isFalse();
    assertThat(Command.valueOf(0x01)).isSameAs(Command.CONNECT);
  }

  @Test
  void openCodesReadUnsignedBytes() {
    assertThat(AuthMethod.valueOf((byte) 0xFF)).isSameAs(AuthMethod.NO_ACCEPTABLE_METHODS);
    assertThat(AuthMethod.valueOf((byte) 0x80).code()).isEqualTo(0x80);
    assertThat(AddressType.valueOf((byte) 0x04)).isSameAs(AddressType.IPV6);
    assertThat(AddressType.valueOf(0x02).isKnown()).isFalse();
    assertThat(Command.valueOf((byte) 0x81).code()).isEqualTo(0x81);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Nothing after an error.

  @TestFactory
  Stream<DynamicNode> nothingAfterAnError() {
    // Each input is an error followed by bytes that would decode if the decoder went on.
    return Stream.of(
        decodes("bad greeting, then a good one", false, concat(bytes(0x04, 0x01, 0x00), GREETING_NO_AUTH, REQ_IPV4),
            List.of(new Error(Kind.BAD_VERSION)), Socks5DecoderTest::staysSilent),
        decodes("bad auth VER, then a good auth", true, concat(GREETING_PASSWORD, bytes(0x02, 0x00, 0x00), AUTH_ALICE, REQ_IPV4),
            List.of(greeting(AuthMethod.USERNAME_PASSWORD), new Error(Kind.BAD_AUTH_VERSION)), Socks5DecoderTest::staysSilent),
        decodes("password not UTF-8, then a good request", true,
            concat(GREETING_PASSWORD, bytes(0x01, 0x01, 'a', 0x01, 0xFF), REQ_IPV4),
            List.of(greeting(AuthMethod.USERNAME_PASSWORD), new Error(Kind.BAD_AUTH_ENCODING)), Socks5DecoderTest::staysSilent),
        decodes("bad request VER, then a good request", false, concat(GREETING_NO_AUTH, REQ_BAD_VERSION, REQ_IPV4),
            List.of(greeting(AuthMethod.NO_AUTH), new Error(Kind.BAD_VERSION)), Socks5DecoderTest::staysSilent),
        decodes("unknown ATYP, then a good request", false, concat(GREETING_NO_AUTH, REQ_ATYP_2, REQ_IPV4),
            List.of(greeting(AuthMethod.NO_AUTH), new Error(Kind.UNSUPPORTED_ADDRESS_TYPE)), Socks5DecoderTest::staysSilent),
        decodes("empty domain, then a good request", false, concat(GREETING_NO_AUTH, REQ_EMPTY_DOMAIN, REQ_DOMAIN),
            List.of(greeting(AuthMethod.NO_AUTH), new Error(Kind.EMPTY_DOMAIN)), Socks5DecoderTest::staysSilent));
  }

  /** More valid bytes after the error change nothing. */
  private static void staysSilent(Session s) {
    int before = s.events.size();
    s.feed(concat(GREETING_NO_AUTH, REQ_IPV4, PAYLOAD));
    assertThat(s.events).hasSize(before);
    assertThat(s.decoder.stage()).isEqualTo("done");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Pipelining: greeting + auth + request + payload in one stream.

  @TestFactory
  Stream<DynamicNode> pipelined() {
    Socks5Greeting both = greeting(AuthMethod.NO_AUTH, AuthMethod.USERNAME_PASSWORD);
    byte[] greetingBoth = bytes(0x05, 0x02, 0x00, 0x02);
    List<Object> withAuth = List.of(both, new Socks5PasswordRequest("alice", "secret"),
        new Socks5CommandRequest(Command.CONNECT, 0, AddressType.IPV4, "192.168.1.2", 443));
    return Stream.of(
        decodes("auth + IPv4 + payload", true, concat(greetingBoth, AUTH_ALICE, REQ_IPV4, PAYLOAD), withAuth,
            s -> assertThat(leftover(s)).isEqualTo(PAYLOAD)),
        decodes("auth + IPv6 + payload", true, concat(greetingBoth, AUTH_UTF8, REQ_IPV6, PAYLOAD),
            List.of(both, new Socks5PasswordRequest("j\u00fcrgen", "\u20ac12"),
                new Socks5CommandRequest(Command.BIND, 0, AddressType.IPV6, "2001:db8:0:0:0:0:0:1", 65535)),
            s -> assertThat(leftover(s)).isEqualTo(PAYLOAD)),
        decodes("no auth + domain + payload", false, concat(GREETING_NO_AUTH, REQ_DOMAIN, PAYLOAD),
            List.of(greeting(AuthMethod.NO_AUTH),
                new Socks5CommandRequest(Command.UDP_ASSOCIATE, 0, AddressType.DOMAIN, "example.com", 80)),
            s -> assertThat(leftover(s)).isEqualTo(PAYLOAD)),
        decodes("one payload byte", false, concat(GREETING_NO_AUTH, REQ_IPV4, bytes(0x00)),
            List.of(greeting(AuthMethod.NO_AUTH),
                new Socks5CommandRequest(Command.CONNECT, 0, AddressType.IPV4, "192.168.1.2", 443)),
            s -> assertThat(leftover(s)).isEqualTo(bytes(0x00))),
        decodes("no payload", true, concat(greetingBoth, AUTH_ALICE, REQ_IPV4), withAuth,
            s -> assertThat(leftover(s)).isEmpty()),
        decodes("payload arriving in later feeds", true, concat(greetingBoth, AUTH_ALICE, REQ_IPV4, bytes('a')), withAuth,
            s -> {
              // Three more reads arrive before the session gets round to taking the leftover.
              s.feed(bytes('b', 'c'));
              s.feed(PAYLOAD);
              s.feed(bytes(0x00));
              assertThat(s.events).hasSize(3);
              assertThat(leftover(s)).isEqualTo(concat(bytes('a', 'b', 'c'), PAYLOAD, bytes(0x00)));
            }));
  }

  @TestFactory
  Stream<DynamicNode> pipelinedPayloadOnlyInLaterFeeds() {
    return Stream.of(
        decodes("handshake, then payload in two later feeds", true, concat(GREETING_PASSWORD, AUTH_ALICE, REQ_DOMAIN),
            List.of(greeting(AuthMethod.USERNAME_PASSWORD), new Socks5PasswordRequest("alice", "secret"),
                new Socks5CommandRequest(Command.UDP_ASSOCIATE, 0, AddressType.DOMAIN, "example.com", 80)),
            s -> {
              s.feed(Arrays.copyOfRange(PAYLOAD, 0, 5));
              s.feed(Arrays.copyOfRange(PAYLOAD, 5, PAYLOAD.length));
              assertThat(leftover(s)).isEqualTo(PAYLOAD);
            }));
  }

  @Test
  void payloadSplitAtEveryIndexAfterTheHandshakeComesBackWhole() {
    byte[] handshake = concat(GREETING_NO_AUTH, REQ_IPV4);
    for (Mode mode : Mode.values()) {
      for (int i = 0; i <= PAYLOAD.length; i++) {
        Session s = session(mode, false);
        // The first read holds the handshake and the first i payload bytes, the second the rest.
        s.feed(concat(handshake, Arrays.copyOfRange(PAYLOAD, 0, i)));
        if (i < PAYLOAD.length) {
          s.feed(Arrays.copyOfRange(PAYLOAD, i, PAYLOAD.length));
        }
        assertThat(s.events).as("%s, split at %d", mode, i).hasSize(2);
        assertThat(leftover(s)).as("%s, split at %d", mode, i).isEqualTo(PAYLOAD);
      }
    }
  }

  @Test
  void afterTheLeftoverTheDecoderIsDoneAndSilent() {
    Session s = session(Mode.SYNC, false);
    s.feed(concat(GREETING_NO_AUTH, REQ_IPV4, PAYLOAD));
    assertThat(leftover(s)).isEqualTo(PAYLOAD);
    assertThat(s.decoder.stage()).isEqualTo("done");
    s.feed(concat(GREETING_NO_AUTH, REQ_IPV4));
    assertThat(s.events).hasSize(2);
  }

  @Test
  void leftoverDoesNotAliasTheFedBuffer() {
    Session s = session(Mode.SYNC, false);
    Buffer in = Buffer.buffer(concat(GREETING_NO_AUTH, REQ_IPV4, PAYLOAD));
    s.decoder.feed(in);
    Buffer left = s.decoder.takeLeftover();
    assertThat(left.getBytes()).isEqualTo(PAYLOAD);
    // Changing the caller's buffer afterwards does not change the leftover.
    in.setByte(in.length() - 1, (byte) 0x42);
    assertThat(left.getBytes()).isEqualTo(PAYLOAD);
  }

  @Test
  void emptyFeedsAreIgnored() {
    Session s = session(Mode.SYNC, false);
    s.feed(new byte[0]);
    s.feed(GREETING_NO_AUTH);
    s.feed(new byte[0]);
    s.feed(REQ_IPV4);
    s.feed(new byte[0]);
    assertThat(s.events).hasSize(2);
    assertThat(leftover(s)).isEmpty();
  }

  private static byte[] leftover(Session s) {
    return s.decoder.takeLeftover().getBytes();
  }
}
