package dev.vxsocks.proxy.gssapi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Reads the messages of RFC 1961 from a client's bytes, however they are split: {@code VER MTYP LEN TOKEN} (VER 1,
 * a two-byte big-endian LEN, a token of 1 to 65535 bytes), and the abort {@code 01 FF}, which has no length. It
 * never writes and never decides: each message, the client's abort, or the first error goes to the {@link Listener},
 * after which the decoder reads nothing more (an error or an abort ends the session).
 *
 * <p>Two ways to run it. <em>Stepping</em> (context establishment, the protection level): after each message the
 * decoder waits, holding what arrived behind it, until the session says what comes next ({@link #expect},
 * {@link #resume}), because the answer to a token is computed off the event loop. <em>Streaming</em> (the protected
 * relay): every complete message goes to the listener as it is read.
 *
 * <p>It keeps only heap arrays: the caller keeps ownership of the buffers it feeds. What it holds is bounded by one
 * token (65,535 bytes) plus, while stepping, {@link #MAX_HELD} bytes sent ahead. One per connection, on its event loop.
 */
public final class GssFrameDecoder {

  public static final int VERSION = 1;
  /** MTYP 1: a context-establishment token (RFC 1961 §3). */
  public static final int AUTHENTICATION = 1;
  /** MTYP 2: the protection-level sub-negotiation (§4). */
  public static final int PROTECTION = 2;
  /** MTYP 3: an encapsulated user-data message (§5). */
  public static final int ENCAPSULATION = 3;
  /** MTYP 0xFF: abort (§3.8), without LEN or token. */
  public static final int ABORT = 0xFF;
  public static final int MAX_TOKEN = 0xFFFF;
  /** While stepping, a client may send this much ahead of our answer; more is an error. */
  public static final int MAX_HELD = 128 * 1024;

  /** Receives what the decoder read. */
  public interface Listener {
    /** A complete message of the expected type. */
    void onMessage(int mtyp, byte[] token);

    /** The client sent {@code 01 FF}. */
    void onAbort();

    /** Bytes that are not a message we can take; {@code why} is for the log. */
    void onError(String why);
  }

  private Listener listener;
  private final byte[] head = new byte[4];
  private int headFill;
  private byte[] token;
  private int tokenFill;
  private int expected;
  private boolean stepping;
  private boolean waiting;
  private boolean stopped;
  private boolean parsing;
  /** While stepping and waiting: what arrived behind the last message, in order. */
  private byte[] held;
  private int heldLength;

  /** A stepping decoder expecting {@code mtyp}. */
  public GssFrameDecoder(Listener listener, int mtyp) {
    this.listener = listener;
    this.expected = mtyp;
    this.stepping = true;
  }

  /** Who gets the messages from now on. */
  public void listener(Listener listener) {
    this.listener = listener;
  }

  /** The type of message that may come next (an abort may always come). */
  public void expect(int mtyp) {
    this.expected = mtyp;
  }

  /** Streaming from now on: every message goes to the listener as it is read. Call {@link #resume} after. */
  public void streaming() {
    this.stepping = false;
  }

  /** Whether the decoder waits for {@link #resume} after a message. */
  public boolean waiting() {
    return waiting;
  }

  /** After an error or an abort: the decoder reads nothing more. */
  public boolean stopped() {
    return stopped;
  }

  /** True between messages: nothing of a next message has been read. */
  public boolean atBoundary() {
    return headFill == 0 && token == null;
  }

  /** Reads nothing more: what the last message carried cannot be used (a token that does not unwrap). */
  public void stop() {
    stopped = true;
    token = null;
    held = null;
    heldLength = 0;
  }

  /** Reads {@code in} to its end; the caller keeps (and releases) it. */
  public void feed(ByteBuf in) {
    if (stopped) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (waiting) {
      hold(in);
      return;
    }
    parsing = true;
    try {
      parse(in);
    } finally {
      parsing = false;
    }
    if (in.isReadable()) {
      if (waiting) {
        hold(in);
      } else {
        in.skipBytes(in.readableBytes());
      }
    }
  }

  /** Reads {@code bytes}. */
  public void feed(byte[] bytes) {
    feed(Unpooled.wrappedBuffer(bytes));
  }

  /**
   * Goes on after a message (stepping): what was held is read now, before anything fed later. Called from inside
   * {@link Listener#onMessage}, it only lets the read in progress go on.
   */
  public void resume() {
    if (!waiting) {
      return;
    }
    waiting = false;
    if (parsing || heldLength == 0) {
      return;
    }
    ByteBuf rest = Unpooled.wrappedBuffer(held, 0, heldLength);
    held = null;
    heldLength = 0;
    feed(rest);
  }

  /**
   * What was held behind the last message, as it came, and nothing more from this decoder (the bytes belong to another
   * parser now: the plain SOCKS request after a negotiation without protection).
   */
  public byte[] takeHeld() {
    byte[] out = new byte[heldLength];
    if (heldLength > 0) {
      System.arraycopy(held, 0, out, 0, heldLength);
    }
    held = null;
    heldLength = 0;
    stopped = true;
    return out;
  }

  private void hold(ByteBuf in) {
    int n = in.readableBytes();
    if (n == 0) {
      return;
    }
    if (heldLength + n > MAX_HELD) {
      in.skipBytes(n);
      held = null;
      heldLength = 0;
      fail("more than " + MAX_HELD + " bytes sent ahead of the server's answer");
      return;
    }
    if (held == null || held.length < heldLength + n) {
      byte[] bigger = new byte[Math.max(heldLength + n, held == null ? 256 : held.length * 2)];
      if (heldLength > 0) {
        System.arraycopy(held, 0, bigger, 0, heldLength);
      }
      held = bigger;
    }
    in.readBytes(held, heldLength, n);
    heldLength += n;
  }

  private void parse(ByteBuf in) {
    while (in.isReadable() && !waiting && !stopped) {
      if (token != null) {
        int n = Math.min(token.length - tokenFill, in.readableBytes());
        in.readBytes(token, tokenFill, n);
        tokenFill += n;
        if (tokenFill == token.length) {
          byte[] message = token;
          int mtyp = head[1] & 0xFF;
          token = null;
          headFill = 0;
          waiting = stepping;
          listener.onMessage(mtyp, message);
        }
      } else if (headFill < 2) {
        int n = Math.min(2 - headFill, in.readableBytes());
        in.readBytes(head, headFill, n);
        headFill += n;
        if (headFill == 2) {
          checkHead();
        }
      } else {
        int n = Math.min(4 - headFill, in.readableBytes());
        in.readBytes(head, headFill, n);
        headFill += n;
        if (headFill == 4) {
          int length = ((head[2] & 0xFF) << 8) | (head[3] & 0xFF);
          if (length == 0) {
            fail("MTYP " + (head[1] & 0xFF) + " with an empty token");
          } else {
            token = new byte[length];
            tokenFill = 0;
          }
        }
      }
    }
  }

  private void checkHead() {
    int ver = head[0] & 0xFF;
    int mtyp = head[1] & 0xFF;
    if (ver != VERSION) {
      fail("VER is " + ver + ", not " + VERSION);
    } else if (mtyp == ABORT) {
      stopped = true;
      listener.onAbort();
    } else if (mtyp != expected) {
      fail("MTYP is " + mtyp + ", expected " + expected);
    }
  }

  private void fail(String why) {
    stopped = true;
    token = null;
    listener.onError(why);
  }
}
