package dev.vxsocks.proxy.codec;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vxsocks.proxy.codec.Socks5ProtocolException.Kind;
import io.vertx.core.buffer.Buffer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes {@link Socks5Decoder} (docs/security/fuzzing.md): the greeting, the RFC 1929 sub-negotiation and the request,
 * fed in random splits, with the session's answer given inside the callback or after {@code feed} returns. What must
 * hold for every input:
 * <ul>
 *   <li>the events are the same as for the whole input fed at once, and as a straight reading of RFC 1928/1929 over
 *       the whole array ({@link #reference}) says: same messages in the same places, same error kinds;</li>
 *   <li>each decoded message encodes ({@link Socks5Wire}) back to exactly the bytes it was decoded from, and the bytes
 *       behind a request come back untouched from {@code takeLeftover};</li>
 *   <li>nothing is reported after a request or an error, and nothing is ever thrown;</li>
 *   <li>a decoder still reading has reported everything up to at most one incomplete message: it never holds more
 *       than {@link #MAX_MESSAGE} - 1 bytes it has not turned into an event.</li>
 * </ul>
 * The session's rule here: a greeting that offers USERNAME/PASSWORD gets the sub-negotiation, any other the request.
 * {@code subNegotiation} starts every input with such a greeting, so that all of its bytes go to RFC 1929.
 *
 * <p>Regression mode (every {@code mvn verify}) runs the files in {@code Socks5DecoderFuzzTestInputs/<method>/}.
 */
class Socks5DecoderFuzzTest {

  /** The longest message: RFC 1929 with a 255-byte name and a 255-byte password. */
  static final int MAX_MESSAGE = 1 + 1 + 255 + 1 + 255;

  private static final byte[] PASSWORD_GREETING = {5, 1, 2};

  @FuzzTest
  void handshake(FuzzedDataProvider data) {
    check(data, new byte[0]);
  }

  @FuzzTest
  void subNegotiation(FuzzedDataProvider data) {
    check(data, PASSWORD_GREETING);
  }

  private static void check(FuzzedDataProvider data, byte[] prefix) {
    boolean answerInside = data.consumeBoolean();
    int[] cuts = new int[data.consumeInt(0, 8)];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = data.consumeInt(0, Integer.MAX_VALUE);
    }
    byte[] body = data.consumeRemainingAsBytes();
    byte[] input = new byte[prefix.length + body.length];
    System.arraycopy(prefix, 0, input, 0, prefix.length);
    System.arraycopy(body, 0, input, prefix.length, body.length);
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] %= input.length + 1;
    }
    Arrays.sort(cuts);

    Run whole = Run.of(input, new int[0], true);
    Run split = Run.of(input, cuts, answerInside);
    assertThat(split.events).as("events, split at %s", Arrays.toString(cuts)).isEqualTo(whole.events);
    assertThat(split.leftover).isEqualTo(whole.leftover);

    List<Span> expected = reference(input);
    assertThat(whole.events).hasSameSizeAs(expected);
    int end = 0;
    for (int i = 0; i < expected.size(); i++) {
      Span span = expected.get(i);
      Object event = whole.events.get(i);
      if (span.error != null) {
        assertThat(event).isInstanceOf(Error.class);
        assertThat(((Error) event).kind).isEqualTo(span.error);
        assertThat(i).isEqualTo(expected.size() - 1);
        continue;
      }
      byte[] sent = Arrays.copyOfRange(input, span.from, span.to);
      byte[] encoded = encode(event);
      assertThat(encoded).as("%s re-encoded", event).isEqualTo(sent);
      end = span.to;
    }
    boolean ended = !expected.isEmpty()
        && (expected.get(expected.size() - 1).error != null || whole.events.get(whole.events.size() - 1)
        instanceof Socks5CommandRequest);
    if (whole.leftover != null) {
      assertThat(whole.leftover).isEqualTo(Arrays.copyOfRange(input, end, input.length));
    } else if (!ended) {
      assertThat(input.length - end).as("bytes held without an event").isLessThan(MAX_MESSAGE);
    }
  }

  private static boolean wellFormedUtf8(byte[] b) {
    try {
      StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private static byte[] encode(Object event) {
    if (event instanceof Socks5Greeting) {
      return Socks5Wire.greeting((Socks5Greeting) event);
    }
    if (event instanceof Socks5PasswordRequest) {
      return Socks5Wire.passwordRequest((Socks5PasswordRequest) event);
    }
    return Socks5Wire.commandRequest((Socks5CommandRequest) event);
  }

  /** A protocol error, comparable. */
  record Error(Kind kind, String message) {
  }

  /** One decoded message in {@code input[from, to)}, or the error its bytes cause. */
  record Span(int from, int to, Kind error) {
  }

  /**
   * RFC 1928 §3-4 and RFC 1929 §2 read straight off the whole array, with the same session rule: where each message
   * lies, or which error ends the handshake. No event for an incomplete message.
   */
  static List<Span> reference(byte[] in) {
    List<Span> out = new ArrayList<>();
    int n = in.length;
    if (n < 2) {
      return out;
    }
    if (in[0] != 5) {
      out.add(new Span(0, 2, Kind.BAD_VERSION));
      return out;
    }
    int at = 2 + (in[1] & 0xFF);
    if (n < at) {
      return out;
    }
    out.add(new Span(0, at, null));
    boolean password = false;
    for (int i = 2; i < at; i++) {
      password |= in[i] == 2;
    }
    if (password) {
      if (n < at + 2) {
        return out;
      }
      if (in[at] != 1) {
        out.add(new Span(at, at + 2, Kind.BAD_AUTH_VERSION));
        return out;
      }
      int plenAt = at + 2 + (in[at + 1] & 0xFF);
      if (n < plenAt + 1 || n < plenAt + 1 + (in[plenAt] & 0xFF)) {
        return out;
      }
      int end = plenAt + 1 + (in[plenAt] & 0xFF);
      boolean utf8 = wellFormedUtf8(Arrays.copyOfRange(in, at + 2, plenAt))
          && wellFormedUtf8(Arrays.copyOfRange(in, plenAt + 1, end));
      out.add(new Span(at, end, utf8 ? null : Kind.BAD_AUTH_ENCODING));
      if (!utf8) {
        return out;
      }
      at = end;
    }
    if (n < at + 4) {
      return out;
    }
    if (in[at] != 5) {
      out.add(new Span(at, at + 4, Kind.BAD_VERSION));
      return out;
    }
    int atyp = in[at + 3];
    int addressEnd;
    if (atyp == 1 || atyp == 4) {
      addressEnd = at + 4 + (atyp == 1 ? 4 : 16);
    } else if (atyp == 3) {
      if (n < at + 5) {
        return out;
      }
      if (in[at + 4] == 0) {
        out.add(new Span(at, at + 5, Kind.EMPTY_DOMAIN));
        return out;
      }
      addressEnd = at + 5 + (in[at + 4] & 0xFF);
    } else {
      out.add(new Span(at, at + 4, Kind.UNSUPPORTED_ADDRESS_TYPE));
      return out;
    }
    if (n >= addressEnd + 2) {
      out.add(new Span(at, addressEnd + 2, null));
    }
    return out;
  }

  /** One pass of the decoder over {@code input}, cut at {@code cuts}, with a listener that plays the session. */
  static final class Run implements Socks5Decoder.Listener {
    final List<Object> events = new ArrayList<>();
    /** After a request: what {@code takeLeftover} returned. Else null. */
    byte[] leftover;
    private final boolean answerInside;
    private Socks5Decoder decoder;
    private Runnable pending;
    private boolean ended;

    private Run(boolean answerInside) {
      this.answerInside = answerInside;
    }

    static Run of(byte[] input, int[] cuts, boolean answerInside) {
      Run run = new Run(answerInside);
      run.decoder = new Socks5Decoder(run);
      int from = 0;
      for (int i = 0; i <= cuts.length; i++) {
        int to = i < cuts.length ? cuts[i] : input.length;
        run.decoder.feed(Buffer.buffer(Arrays.copyOfRange(input, from, to)));
        run.answer();
        from = to;
      }
      assertThat(run.decoder.stage()).isIn("greeting", "auth", "request", "waiting", "done");
      if (!run.events.isEmpty() && run.events.get(run.events.size() - 1) instanceof Socks5CommandRequest) {
        run.leftover = run.decoder.takeLeftover().getBytes();
        assertThat(run.decoder.stage()).isEqualTo("done");
        run.decoder.feed(Buffer.buffer(new byte[] {5, 1, 0}));
      }
      return run;
    }

    private void answer() {
      // A deferred answer may let the decoder parse the next message at once, whose answer is deferred in turn.
      while (pending != null) {
        Runnable r = pending;
        pending = null;
        r.run();
      }
    }

    private void next(Runnable expect) {
      if (answerInside) {
        expect.run();
      } else {
        pending = expect;
      }
    }

    private void add(Object event) {
      assertThat(ended).as("event %s after the handshake ended", event).isFalse();
      events.add(event);
    }

    @Override
    public void onGreeting(Socks5Greeting greeting) {
      add(greeting);
      assertThat(decoder.stage()).isEqualTo("waiting");
      if (greeting.methods().contains(AuthMethod.USERNAME_PASSWORD)) {
        next(decoder::expectPasswordRequest);
      } else {
        next(decoder::expectCommandRequest);
      }
    }

    @Override
    public void onPasswordRequest(Socks5PasswordRequest request) {
      add(request);
      next(decoder::expectCommandRequest);
    }

    @Override
    public void onCommandRequest(Socks5CommandRequest request) {
      add(request);
      ended = true;
    }

    @Override
    public void onProtocolError(Socks5ProtocolException error) {
      add(new Error(error.kind(), error.getMessage()));
      assertThat(error.getMessage()).isNotBlank();
      ended = true;
    }
  }
}
