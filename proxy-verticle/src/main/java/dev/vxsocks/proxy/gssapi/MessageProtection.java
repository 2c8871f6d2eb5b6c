package dev.vxsocks.proxy.gssapi;

import dev.vxsocks.proxy.command.DatagramProtection;
import dev.vxsocks.proxy.relay.Relay;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSException;
import org.ietf.jgss.MessageProp;

import java.util.function.Consumer;

/**
 * A session's per-message protection once a level is in force (RFC 1961 §5): every byte the client sends after the
 * sub-negotiation (the request, then the relayed stream) arrives in MTYP 3 messages whose tokens are unwrapped, and
 * every byte the client gets (the reply, then the relayed stream) is wrapped into such messages, at most
 * {@link #maxPlain()} bytes of user data each so that the token fits the 16-bit length. At level 1 (integrity) our
 * messages are signed only; at levels 2 (confidentiality) and 3 (selective) they are encrypted. A client's message
 * is refused when it fails the check, comes out of order or twice, or lacks confidentiality at level 2.
 *
 * <p>Runs on the session's event loop: wrapping and unwrapping are the cost of a byte, like TLS on an event loop.
 */
public final class MessageProtection implements GssFrameDecoder.Listener, DatagramProtection {

  private final GSSContext context;
  private final int level;
  private final boolean encrypt;
  private final int maxPlain;
  private final GssFrameDecoder decoder;
  private Consumer<byte[]> sink;
  private String error;
  private long unwrapped;
  private boolean disposed;

  /** Takes over {@code context} and {@code decoder} (which then streams MTYP 3 messages). */
  MessageProtection(GSSContext context, int level, GssFrameDecoder decoder) throws GSSException {
    this.context = context;
    this.level = level;
    this.encrypt = level != ProtectionLevels.INTEGRITY;
    this.maxPlain = context.getWrapSizeLimit(0, encrypt, GssFrameDecoder.MAX_TOKEN);
    if (maxPlain <= 0) {
      throw new GSSException(GSSException.FAILURE, -1, "no room for user data in a 65535-byte token");
    }
    this.decoder = decoder;
    decoder.listener(this);
    decoder.expect(GssFrameDecoder.ENCAPSULATION);
    decoder.streaming();
  }

  /** The level in force: 1, 2 or 3. */
  public int level() {
    return level;
  }

  /** The most user data one message carries. */
  public int maxPlain() {
    return maxPlain;
  }

  /**
   * Reads the client's bytes ({@code framed}: the caller keeps it); the user data of each complete message goes to
   * {@code out}, in order. Returns how many bytes of user data that was; throws on a message that cannot be taken.
   */
  public long unwrap(ByteBuf framed, Consumer<byte[]> out) throws GssapiFailure {
    if (error == null) {
      long before = unwrapped;
      sink = out;
      try {
        decoder.feed(framed);
      } finally {
        sink = null;
      }
      if (error == null) {
        return unwrapped - before;
      }
    }
    framed.skipBytes(framed.readableBytes());
    throw new GssapiFailure(error);
  }

  /** What the decoder held from the sub-negotiation, unwrapped now (before anything read later). */
  void resume(Consumer<byte[]> out) throws GssapiFailure {
    sink = out;
    try {
      decoder.resume();
    } finally {
      sink = null;
    }
    if (error != null) {
      throw new GssapiFailure(error);
    }
  }

  /** True between messages: the client's FIN then cuts nothing short. */
  public boolean atBoundary() {
    return decoder.atBoundary();
  }

  @Override
  public void onMessage(int mtyp, byte[] token) {
    MessageProp prop = new MessageProp(0, false);
    byte[] plain;
    try {
      plain = context.unwrap(token, 0, token.length, prop);
    } catch (GSSException e) {
      stop("a message that does not unwrap: " + GssapiAcceptor.describe(e));
      return;
    }
    if (prop.isDuplicateToken() || prop.isOldToken() || prop.isUnseqToken() || prop.isGapToken()) {
      stop("a message out of sequence (replayed, reordered or after a gap)");
    } else if (level == ProtectionLevels.CONFIDENTIALITY && !prop.getPrivacy()) {
      stop("a message without confidentiality at level 2");
    } else {
      unwrapped += plain.length;
      if (plain.length > 0) {
        sink.accept(plain);
      }
    }
  }

  @Override
  public void onAbort() {
    error = "an abort message";
  }

  @Override
  public void onError(String why) {
    error = "a malformed message: " + why;
  }

  private void stop(String why) {
    error = why;
    decoder.stop();
  }

  /** {@code plain} in as many messages as it needs (a reply: a few bytes). */
  public Buffer wrap(Buffer plain) {
    ByteBuf frames;
    try {
      frames = frames(plain.getBytes(), plain.length());
    } catch (GSSException e) {
      throw new IllegalStateException("cannot wrap a reply: " + GssapiAcceptor.describe(e), e);
    }
    byte[] bytes = new byte[frames.readableBytes()];
    frames.readBytes(bytes);
    return Buffer.buffer(bytes);
  }

  /** {@code in} (which this releases) in as many messages as it needs. */
  ByteBuf wrap(ByteBuf in) throws GssapiFailure {
    try {
      int length = in.readableBytes();
      byte[] plain;
      if (in.hasArray() && in.arrayOffset() + in.readerIndex() == 0 && in.array().length == length) {
        plain = in.array();
      } else {
        plain = new byte[length];
        in.getBytes(in.readerIndex(), plain);
      }
      return frames(plain, length);
    } catch (GSSException e) {
      throw new GssapiFailure("cannot wrap: " + GssapiAcceptor.describe(e));
    } finally {
      in.release();
    }
  }

  /** MTYP 3 messages carrying {@code plain[0, length)}: each header and token as they are, without a copy. */
  private ByteBuf frames(byte[] plain, int length) throws GSSException {
    int messages = Math.max(1, (length + maxPlain - 1) / maxPlain);
    ByteBuf[] parts = new ByteBuf[2 * messages];
    for (int i = 0; i < messages; i++) {
      int offset = i * maxPlain;
      byte[] token = context.wrap(plain, offset, Math.min(maxPlain, length - offset), new MessageProp(0, encrypt));
      parts[2 * i] = Unpooled.wrappedBuffer(GssMessages.header(GssFrameDecoder.ENCAPSULATION, token.length));
      parts[2 * i + 1] = Unpooled.wrappedBuffer(token);
    }
    return Unpooled.wrappedBuffer(parts);
  }

  /**
   * A client's UDP datagram: one MTYP 3 message, its token the wrapped SOCKS UDP packet. Datagrams may be lost or
   * reordered, so only a replayed one is refused (and, at level 2, one without encryption).
   */
  @Override
  public Buffer unwrapDatagram(Buffer datagram) throws GssapiFailure {
    int length = datagram.length();
    if (length < 5 || datagram.getUnsignedByte(0) != GssFrameDecoder.VERSION
        || datagram.getUnsignedByte(1) != GssFrameDecoder.ENCAPSULATION
        || datagram.getUnsignedShort(2) != length - 4) {
      throw new GssapiFailure("not one MTYP 3 message");
    }
    MessageProp prop = new MessageProp(0, false);
    byte[] plain;
    try {
      plain = context.unwrap(datagram.getBytes(4, length), 0, length - 4, prop);
    } catch (GSSException e) {
      throw new GssapiFailure("does not unwrap: " + GssapiAcceptor.describe(e));
    }
    if (prop.isDuplicateToken()) {
      throw new GssapiFailure("a replayed datagram");
    }
    if (level == ProtectionLevels.CONFIDENTIALITY && !prop.getPrivacy()) {
      throw new GssapiFailure("a datagram without confidentiality at level 2");
    }
    return Buffer.buffer(plain);
  }

  /** A datagram to the client: the SOCKS UDP packet wrapped into one MTYP 3 message. */
  @Override
  public Buffer wrapDatagram(Buffer packet) throws GssapiFailure {
    byte[] plain = packet.getBytes();
    byte[] token;
    try {
      token = context.wrap(plain, 0, plain.length, new MessageProp(0, encrypt));
    } catch (GSSException e) {
      throw new GssapiFailure("cannot wrap: " + GssapiAcceptor.describe(e));
    }
    if (token.length > GssFrameDecoder.MAX_TOKEN) {
      throw new GssapiFailure("a datagram too large to wrap into one message");
    }
    return Buffer.buffer(GssMessages.message(GssFrameDecoder.ENCAPSULATION, token));
  }

  /** The filter for the client → upstream direction of the relay: unwraps. */
  public Relay.Filter fromClient() {
    return new Relay.Filter() {
      @Override
      public long apply(ByteBuf in, Consumer<ByteBuf> out) throws GssapiFailure {
        try {
          return unwrap(in, plain -> out.accept(Unpooled.wrappedBuffer(plain)));
        } finally {
          in.release();
        }
      }

      @Override
      public String finish() {
        return atBoundary() ? null : "in the middle of a GSS-API message";
      }
    };
  }

  /** The filter for the upstream → client direction of the relay: wraps. */
  public Relay.Filter toClient() {
    return (in, out) -> {
      long n = in.readableBytes();
      out.accept(wrap(in));
      return n;
    };
  }

  /** Frees the context's keys; idempotent. */
  public void dispose() {
    if (!disposed) {
      disposed = true;
      try {
        context.dispose();
      } catch (GSSException ignored) {
        // nothing left to free
      }
    }
  }
}
