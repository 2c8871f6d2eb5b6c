package dev.vxsocks.proxy.codec;

import dev.vxsocks.proxy.codec.Socks5ProtocolException.Kind;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the bytes of a SOCKS5 handshake into messages, with a {@link RecordParser} in fixed-size mode as the state
 * machine. It never writes and never decides: each message, or a {@link Socks5ProtocolException}, goes to the
 * {@link Listener}, and the decoder then waits until the session says what comes next
 * ({@link #expectPasswordRequest()} / {@link #expectCommandRequest()}), because only the session knows which method it
 * chose. Bytes that arrive behind the final request are kept, untouched, for {@link #takeLeftover()}.
 *
 * <p>Feed it with {@link #feed(Buffer)}; it is not thread-safe (one per connection, on its event loop).
 */
public final class Socks5Decoder {

  /** Receives decoded messages. */
  public interface Listener {
    void onGreeting(Socks5Greeting greeting);

    void onPasswordRequest(Socks5PasswordRequest request);

    void onCommandRequest(Socks5CommandRequest request);

    void onProtocolError(Socks5ProtocolException error);
  }

  private enum State {
    GREETING, GREETING_METHODS,
    AUTH, AUTH_USERNAME, AUTH_PASSWORD_LENGTH, AUTH_PASSWORD,
    REQUEST, REQUEST_DOMAIN_LENGTH, REQUEST_ADDRESS,
    WAITING, DONE
  }

  private final Listener listener;
  private final RecordParser parser;
  private State state = State.GREETING;
  private long fed;
  private long consumed;
  // Fields of a message in progress.
  private static final byte[] EMPTY = new byte[0];
  /** The RFC 1929 user name as sent, until the password has arrived too. */
  private byte[] username;
  private int requestCommand;
  private int requestRsv;
  private AddressType requestAddressType;

  public Socks5Decoder(Listener listener) {
    this.listener = listener;
    this.parser = RecordParser.newFixed(2);
    parser.handler(this::onRecord);
  }

  /**
   * A decoder whose first message is a request (RFC 1928 §4): for a method whose sub-negotiation another parser ran
   * (GSS-API, RFC 1961), after which the request follows.
   */
  public static Socks5Decoder forRequest(Listener listener) {
    Socks5Decoder decoder = new Socks5Decoder(listener);
    decoder.state = State.WAITING;
    decoder.expectCommandRequest();
    return decoder;
  }

  /** Hands the decoder the next bytes from the client. Empty buffers are ignored. */
  public void feed(Buffer bytes) {
    if (bytes.length() == 0) {
      return;
    }
    fed += bytes.length();
    parser.handle(bytes);
  }

  /** The session chose username/password: the next message is an RFC 1929 request. */
  public void expectPasswordRequest() {
    expect(State.AUTH, 2);
  }

  /** The next message is a request (RFC 1928 §4). */
  public void expectCommandRequest() {
    expect(State.REQUEST, 4);
  }

  /** Where the decoder is, for logs: {@code greeting}, {@code auth}, {@code request}, {@code waiting}, {@code done}. */
  public String stage() {
    switch (state) {
      case GREETING: case GREETING_METHODS: return "greeting";
      case AUTH: case AUTH_USERNAME: case AUTH_PASSWORD_LENGTH: case AUTH_PASSWORD: return "auth";
      case REQUEST: case REQUEST_DOMAIN_LENGTH: case REQUEST_ADDRESS: return "request";
      case WAITING: return "waiting";
      default: return "done";
    }
  }

  /**
   * After the request: the bytes the client sent behind it (pipelined payload), in order, possibly empty. Must not be
   * called from inside a {@link Listener} method. Afterwards the decoder holds nothing and accepts nothing more.
   */
  public Buffer takeLeftover() {
    long held = fed - consumed;
    Buffer[] out = {Buffer.buffer()};
    if (held > 0) {
      // RecordParser offers no way to read what it buffers; a record of exactly the held size makes it hand
      // everything over synchronously and in order.
      parser.handler(b -> out[0] = b);
      parser.fixedSizeMode((int) held);
      parser.resume();
      consumed += held;
    }
    parser.pause();
    parser.handler(b -> { });
    state = State.DONE;
    return out[0];
  }

  private void expect(State next, int size) {
    if (state != State.WAITING) {
      throw new IllegalStateException("decoder is " + state + ", not waiting for the session");
    }
    state = next;
    parser.fixedSizeMode(size);
    parser.resume();
  }

  /** Emits a message and waits for the session to say what comes next. */
  private void await() {
    state = State.WAITING;
    parser.pause();
  }

  private void fail(Kind kind, String message) {
    state = State.DONE;
    parser.pause();
    listener.onProtocolError(new Socks5ProtocolException(kind, message));
  }

  /** The end of an RFC 1929 request: both fields must be well-formed UTF-8 ({@link Kind#BAD_AUTH_ENCODING}). */
  private void passwordRequest(byte[] password) {
    String name = utf8(username);
    String secret = utf8(password);
    username = null;
    if (name == null || secret == null) {
      // The message names the field only: its bytes may be a password.
      fail(Kind.BAD_AUTH_ENCODING, (name == null ? "user name" : "password") + " is not well-formed UTF-8");
    } else {
      await();
      listener.onPasswordRequest(new Socks5PasswordRequest(name, secret));
    }
  }

  /** Strict UTF-8, or null: a lenient decoder would make different bytes the same string. */
  private static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private void onRecord(Buffer record) {
    consumed += record.length();
    switch (state) {
      case GREETING: {
        int ver = record.getUnsignedByte(0);
        int nmethods = record.getUnsignedByte(1);
        if (ver != 5) {
          fail(Kind.BAD_VERSION, "greeting VER is " + ver + ", not 5");
        } else if (nmethods == 0) {
          await();
          listener.onGreeting(new Socks5Greeting(List.of()));
        } else {
          state = State.GREETING_METHODS;
          parser.fixedSizeMode(nmethods);
        }
        break;
      }
      case GREETING_METHODS: {
        List<AuthMethod> methods = new ArrayList<>(record.length());
        for (int i = 0; i < record.length(); i++) {
          methods.add(AuthMethod.valueOf(record.getUnsignedByte(i)));
        }
        await();
        listener.onGreeting(new Socks5Greeting(List.copyOf(methods)));
        break;
      }
      case AUTH: {
        int ver = record.getUnsignedByte(0);
        int ulen = record.getUnsignedByte(1);
        if (ver != 1) {
          fail(Kind.BAD_AUTH_VERSION, "username/password VER is " + ver + ", not 1");
        } else if (ulen == 0) {
          // fixedSizeMode(0) is illegal: a zero-length field skips its state.
          username = EMPTY;
          state = State.AUTH_PASSWORD_LENGTH;
          parser.fixedSizeMode(1);
        } else {
          state = State.AUTH_USERNAME;
          parser.fixedSizeMode(ulen);
        }
        break;
      }
      case AUTH_USERNAME:
        username = record.getBytes();
        state = State.AUTH_PASSWORD_LENGTH;
        parser.fixedSizeMode(1);
        break;
      case AUTH_PASSWORD_LENGTH: {
        int plen = record.getUnsignedByte(0);
        if (plen == 0) {
          passwordRequest(EMPTY);
        } else {
          state = State.AUTH_PASSWORD;
          parser.fixedSizeMode(plen);
        }
        break;
      }
      case AUTH_PASSWORD:
        passwordRequest(record.getBytes());
        break;
      case REQUEST: {
        int ver = record.getUnsignedByte(0);
        requestCommand = record.getUnsignedByte(1);
        requestRsv = record.getUnsignedByte(2);
        requestAddressType = AddressType.valueOf(record.getUnsignedByte(3));
        if (ver != 5) {
          fail(Kind.BAD_VERSION, "request VER is " + ver + ", not 5");
        } else if (Socks5Address.fixedLength(requestAddressType) > 0) {
          state = State.REQUEST_ADDRESS;
          parser.fixedSizeMode(Socks5Address.fixedLength(requestAddressType) + 2);
        } else if (requestAddressType.equals(AddressType.DOMAIN)) {
          state = State.REQUEST_DOMAIN_LENGTH;
          parser.fixedSizeMode(1);
        } else {
          fail(Kind.UNSUPPORTED_ADDRESS_TYPE, "request ATYP " + requestAddressType + " is not supported");
        }
        break;
      }
      case REQUEST_DOMAIN_LENGTH: {
        int len = record.getUnsignedByte(0);
        if (len == 0) {
          fail(Kind.EMPTY_DOMAIN, "request names a domain of length 0");
        } else {
          state = State.REQUEST_ADDRESS;
          parser.fixedSizeMode(len + 2);
        }
        break;
      }
      case REQUEST_ADDRESS: {
        int addrLen = record.length() - 2;
        String addr = Socks5Address.text(requestAddressType, record, 0, addrLen);
        int port = record.getUnsignedShort(addrLen);
        await();
        listener.onCommandRequest(new Socks5CommandRequest(Command.valueOf(requestCommand), requestRsv,
            requestAddressType, addr, port));
        break;
      }
      default:
        throw new IllegalStateException("record in state " + state);
    }
  }
}
