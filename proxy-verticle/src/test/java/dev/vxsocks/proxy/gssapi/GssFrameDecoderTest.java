package dev.vxsocks.proxy.gssapi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The RFC 1961 message reader on good and hostile bytes, each fed whole, split at every position, and one byte at a
 * time: messages come out the same, a bad VER, an unexpected MTYP, an empty token and a client's abort end reading
 * with one event, a message cut short yields nothing, and the fed buffers are never kept (the caller's pooled
 * buffers all go back).
 */
class GssFrameDecoderTest {

  enum Feeding { WHOLE, SPLIT_EVERYWHERE, BYTE_BY_BYTE }

  /** Records what the decoder reports. */
  static final class Events implements GssFrameDecoder.Listener {
    final List<String> seen = new ArrayList<>();
    GssFrameDecoder decoder;
    boolean resumeAtOnce;

    @Override
    public void onMessage(int mtyp, byte[] token) {
      seen.add("message " + mtyp + " " + HexFormat.of().formatHex(token));
      if (resumeAtOnce) {
        decoder.resume();
      }
    }

    @Override
    public void onAbort() {
      seen.add("abort");
    }

    @Override
    public void onError(String why) {
      seen.add("error " + why);
    }
  }

  private static List<String> decode(byte[] input, Feeding feeding, int expected, boolean streaming) {
    List<List<String>> runs = new ArrayList<>();
    int splits = feeding == Feeding.SPLIT_EVERYWHERE ? Math.max(1, input.length) : 1;
    for (int split = 0; split < splits; split++) {
      Events events = new Events();
      GssFrameDecoder d = new GssFrameDecoder(events, expected);
      events.decoder = d;
      events.resumeAtOnce = !streaming;
      if (streaming) {
        d.streaming();
      }
      List<ByteBuf> fed = new ArrayList<>();
      switch (feeding) {
        case WHOLE -> fed.add(pooled(input, 0, input.length));
        case SPLIT_EVERYWHERE -> {
          fed.add(pooled(input, 0, split));
          fed.add(pooled(input, split, input.length - split));
        }
        case BYTE_BY_BYTE -> {
          for (int i = 0; i < input.length; i++) {
            fed.add(pooled(input, i, 1));
          }
        }
      }
      for (ByteBuf b : fed) {
        d.feed(b);
        assertThat(b.readableBytes()).as("the decoder reads what it is given to its end").isZero();
        assertThat(b.release()).as("the caller's buffer is not kept").isTrue();
      }
      runs.add(events.seen);
    }
    for (List<String> run : runs) {
      assertThat(run).as("the same events however the bytes are split").isEqualTo(runs.get(0));
    }
    return runs.get(0);
  }

  private static ByteBuf pooled(byte[] bytes, int offset, int length) {
    ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(Math.max(1, length));
    b.writeBytes(bytes, offset, length);
    return b;
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  @ParameterizedTest
  @EnumSource(Feeding.class)
  void messagesComeOutWholeHoweverSplit(Feeding feeding) {
    byte[] input = bytes(1, 3, 0, 2, 0xAA, 0xBB, 1, 3, 0, 1, 0xCC);
    assertThat(decode(input, feeding, 3, true)).containsExactly("message 3 aabb", "message 3 cc");
  }

  @ParameterizedTest
  @EnumSource(Feeding.class)
  void steppingHoldsWhatFollowsUntilResumed(Feeding feeding) {
    byte[] input = bytes(1, 1, 0, 1, 0x11, 1, 1, 0, 1, 0x22);
    assertThat(decode(input, feeding, 1, false)).containsExactly("message 1 11", "message 1 22");
  }

  @Test
  void aTokenOf65535BytesIsOneMessage() {
    byte[] token = new byte[65535];
    new Random(7).nextBytes(token);
    byte[] input = GssMessages.message(1, token);
    Events events = new Events();
    GssFrameDecoder d = new GssFrameDecoder(events, 1);
    for (int o = 0; o < input.length; o += 1000) {
      d.feed(pooledReleased(input, o, Math.min(1000, input.length - o)));
    }
    assertThat(events.seen).containsExactly("message 1 " + HexFormat.of().formatHex(token));
  }

  private static ByteBuf pooledReleased(byte[] input, int offset, int length) {
    return io.netty.buffer.Unpooled.wrappedBuffer(input, offset, length);
  }

  @ParameterizedTest
  @EnumSource(Feeding.class)
  void aBadVersionIsOneErrorAndNothingMore(Feeding feeding) {
    assertThat(decode(bytes(5, 1, 0, 1, 0, 1, 1, 0, 1, 0), feeding, 1, true))
        .containsExactly("error VER is 5, not 1");
  }

  @ParameterizedTest
  @EnumSource(Feeding.class)
  void anUnexpectedTypeIsOneError(Feeding feeding) {
    assertThat(decode(bytes(1, 3, 0, 1, 0), feeding, 1, true)).containsExactly("error MTYP is 3, expected 1");
    assertThat(decode(bytes(1, 7, 0, 1, 0), feeding, 3, true)).containsExactly("error MTYP is 7, expected 3");
  }

  @ParameterizedTest
  @EnumSource(Feeding.class)
  void anEmptyTokenIsAnError(Feeding feeding) {
    assertThat(decode(bytes(1, 1, 0, 0, 1, 1), feeding, 1, true)).containsExactly("error MTYP 1 with an empty token");
  }

  @ParameterizedTest
  @EnumSource(Feeding.class)
  void theClientsAbortIsReportedWhateverFollows(Feeding feeding) {
    assertThat(decode(bytes(1, 0xFF, 9, 9, 9), feeding, 1, true)).containsExactly("abort");
    assertThat(decode(bytes(1, 3, 0, 1, 0x42, 1, 0xFF), feeding, 3, true)).containsExactly("message 3 42", "abort");
  }

  @ParameterizedTest
  @EnumSource(Feeding.class)
  void aLengthPastTheEndYieldsNothing(Feeding feeding) {
    assertThat(decode(bytes(1, 1, 0xFF, 0xFF, 1, 2, 3), feeding, 1, true)).isEmpty();
    Events events = new Events();
    GssFrameDecoder d = new GssFrameDecoder(events, 1);
    d.feed(bytes(1, 1, 0, 9, 1, 2));
    assertThat(d.atBoundary()).as("in the middle of a message").isFalse();
  }

  @Test
  void garbageNeverThrows() {
    Random random = new Random(1961);
    for (int round = 0; round < 2000; round++) {
      byte[] junk = new byte[random.nextInt(64)];
      random.nextBytes(junk);
      if (junk.length > 0 && random.nextBoolean()) {
        junk[0] = 1;
      }
      Events events = new Events();
      GssFrameDecoder d = new GssFrameDecoder(events, 1 + random.nextInt(3));
      events.decoder = d;
      events.resumeAtOnce = true;
      d.feed(junk);
      assertThat(events.seen.stream().filter(e -> !e.startsWith("message")).count()).isLessThanOrEqualTo(1);
    }
  }

  @Test
  void whatIsHeldWhileWaitingIsBoundedAndTakenInOrder() {
    Events events = new Events();
    GssFrameDecoder d = new GssFrameDecoder(events, 2);
    d.feed(bytes(1, 2, 0, 1, 0, 5, 1, 0));
    assertThat(d.waiting()).isTrue();
    d.feed(bytes(3, 5));
    assertThat(HexFormat.of().formatHex(d.takeHeld())).isEqualTo("0501000305");

    GssFrameDecoder flooded = new GssFrameDecoder(events, 1);
    flooded.feed(bytes(1, 1, 0, 1, 0));
    flooded.feed(new byte[GssFrameDecoder.MAX_HELD + 1]);
    assertThat(events.seen).last().asString().startsWith("error more than");
    assertThat(flooded.stopped()).isTrue();
  }
}
