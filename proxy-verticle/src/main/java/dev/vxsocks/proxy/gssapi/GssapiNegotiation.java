package dev.vxsocks.proxy.gssapi;

import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.ProxyConfig;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.ietf.jgss.GSSContext;
import org.ietf.jgss.GSSException;
import org.ietf.jgss.MessageProp;

import java.util.logging.Logger;

/**
 * The GSS-API sub-negotiation of one session (RFC 1961): context establishment in as many MTYP 1 round trips as the
 * mechanism needs (each token accepted off the event loop by {@link GssapiAcceptor}), the principal mapped to a user
 * ({@link PrincipalNames}) and checked with the auth verticle (a disabled user is refused), then the protection-level
 * message (MTYP 2), wrapped as §4.4 says or, from clients of the NEC reference implementation, sent as one bare
 * octet. Either side may abort with {@code 01 FF}; the server does so for every refusal, then closes.
 *
 * <p>The level granted ({@link ProtectionLevels}) decides what follows: none, and the session goes on as a plain
 * SOCKS5 session with the zero-copy relay; integrity, confidentiality or selective, and every later byte goes through
 * {@link MessageProtection}. The client's user data (the request) then arrives through {@link #feed} as well, and its
 * plaintext goes to {@link Host#plaintext}.
 *
 * <p>Runs on the session's event loop; the session's handshake timer bounds it (a client that stalls mid-context is
 * closed like any slow handshake).
 */
public final class GssapiNegotiation implements GssFrameDecoder.Listener {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.session");

  /** What the sub-negotiation needs from its session. */
  public interface Host {
    String id();

    /** The client's address, for the auth verticle. */
    String clientIp();

    /** Stops reading from the client (an answer is being computed). */
    void pause();

    /** Reads from the client again, unless the session has its request already (then the command decides). */
    void resume();

    void write(Buffer message);

    /** Writes {@code 01 FF}, then ends the session with {@code reason} in its summary line. */
    void refuse(String reason);

    /** Ends the session now (the client aborted or broke the framing). */
    void end(String reason);

    boolean ended();

    /** The user this session will be known as (set before it is checked, so a refusal names it). */
    void user(String user);

    /** Whether the auth verticle lets {@code user} in (a listed, disabled user is refused). */
    Future<Verdict> checkUser(String user);

    /**
     * The sub-negotiation is over. With {@code protection} null, {@code plain} is what the client sent behind it
     * (the start of a plain request); otherwise the request follows through {@link #feed} and {@link #plaintext}.
     */
    void authenticated(MessageProtection protection, byte[] plain);

    /** Under protection: the user data of the client's messages, in order (the request, then what follows it). */
    void plaintext(byte[] plain);
  }

  /** PLAIN: level none granted, the session not told yet; PROTECTED: a level in force. */
  private enum State { CONTEXT, LEVEL, PLAIN, PROTECTED, DONE }

  private final ProxyConfig.Gssapi config;
  private final Host host;
  private final Context eventLoop;
  private final GssFrameDecoder decoder = new GssFrameDecoder(this, GssFrameDecoder.AUTHENTICATION);
  private final GssapiAcceptor.Exchange exchange;
  private State state = State.CONTEXT;
  private MessageProtection protection;
  private String principal;
  private boolean busy;
  /** A level was granted inside the decoder's read: the session is told once the read is over. */
  private boolean handOver;

  /** Call on the session's event loop. */
  public GssapiNegotiation(ProxyConfig.Gssapi config, Host host) {
    this.config = config;
    this.host = host;
    this.eventLoop = io.vertx.core.Vertx.currentContext();
    this.exchange = GssapiAcceptor.of(config).exchange();
  }

  /** The authenticated principal ({@code alice@EXAMPLE.COM}), or null before. */
  public String principal() {
    return principal;
  }

  /** The client's bytes, from right after the method selection. */
  public void feed(Buffer data) {
    if (state == State.DONE || state == State.PLAIN) {
      return;
    }
    if (state == State.PROTECTED && !handOver) {
      try {
        protection.unwrap(Unpooled.wrappedBuffer(data.getBytes()), host::plaintext);
      } catch (GssapiFailure e) {
        host.end("protocol error: gssapi: " + e.getMessage());
      }
      return;
    }
    decoder.feed(Unpooled.wrappedBuffer(data.getBytes()));
    afterDecoding();
  }

  /** The session ended: frees the context unless the protected relay owns it now. */
  public void dispose() {
    exchange.dispose();
  }

  @Override
  public void onMessage(int mtyp, byte[] token) {
    if (state == State.CONTEXT) {
      acceptToken(token);
    } else if (state == State.LEVEL) {
      onProtectionLevel(token);
    }
  }

  @Override
  public void onAbort() {
    state = State.DONE;
    exchange.dispose();
    host.end("auth failed: gssapi: the client aborted");
  }

  @Override
  public void onError(String why) {
    state = State.DONE;
    exchange.dispose();
    host.refuse("protocol error: gssapi: " + why);
  }

  /** MTYP 1: one step of context establishment, off the event loop; reading waits for the answer. */
  private void acceptToken(byte[] token) {
    busy = true;
    host.pause();
    exchange.step(eventLoop, token).onComplete(ar -> {
      busy = false;
      if (host.ended() || state == State.DONE) {
        exchange.dispose();
        return;
      }
      if (ar.failed()) {
        fail("auth failed: gssapi: " + ar.cause().getMessage());
        return;
      }
      GssapiAcceptor.Step step = ar.result();
      if (!step.established()) {
        if (step.token() == null) {
          fail("auth failed: gssapi: the mechanism wants another token but gave none to send");
          return;
        }
        host.write(Buffer.buffer(GssMessages.message(GssFrameDecoder.AUTHENTICATION, step.token())));
        goOn(GssFrameDecoder.AUTHENTICATION);
        return;
      }
      established(step.token());
    });
  }

  /** The context is complete: who the client is, and whether they may come in, before our last token goes out. */
  private void established(byte[] lastToken) {
    GSSContext context = exchange.context();
    String name;
    try {
      name = context.getSrcName().toString();
    } catch (GSSException e) {
      fail("auth failed: gssapi: no client name: " + GssapiAcceptor.describe(e));
      return;
    }
    principal = name;
    String user = PrincipalNames.toUser(name, config.realms(), config.keepOtherPrincipals());
    if (user == null) {
      host.user(name);
      fail("auth failed: gssapi: principal not in auth.gssapi.realms");
      return;
    }
    host.user(user);
    busy = true;
    host.checkUser(user).onComplete(ar -> {
      busy = false;
      if (host.ended() || state == State.DONE) {
        exchange.dispose();
        return;
      }
      if (ar.failed()) {
        LOG.warning("session=" + host.id() + " auth verticle unavailable for a gssapi user check: "
            + ar.cause().getMessage());
        fail("auth unavailable");
      } else if (!ar.result().allowed()) {
        fail("auth failed: " + ar.result().reason());
      } else {
        LOG.fine(() -> "session=" + host.id() + " gssapi: authenticated " + dev.vxsocks.proxy.LogText.safe(name)
            + " as " + dev.vxsocks.proxy.LogText.safe(user) + " (" + ar.result().detail() + ")");
        if (lastToken != null) {
          host.write(Buffer.buffer(GssMessages.message(GssFrameDecoder.AUTHENTICATION, lastToken)));
        }
        state = State.LEVEL;
        goOn(GssFrameDecoder.PROTECTION);
      }
    });
  }

  /**
   * MTYP 2: the level the client asks for, wrapped without confidentiality (§4.4) or, from a NEC-style client, one
   * bare octet. A wrap token is never a single byte (a Kerberos one carries a 16-byte header at least), so the length
   * tells the two apart. The answer goes back the same way.
   */
  private void onProtectionLevel(byte[] token) {
    GSSContext context = exchange.context();
    boolean nec = token.length == 1;
    int requested;
    if (nec) {
      requested = token[0] & 0xFF;
    } else {
      byte[] level;
      try {
        level = context.unwrap(token, 0, token.length, new MessageProp(0, false));
      } catch (GSSException e) {
        fail("protocol error: gssapi: the protection level does not unwrap: " + GssapiAcceptor.describe(e));
        return;
      }
      if (level.length != 1) {
        fail("protocol error: gssapi: the protection level message carries " + level.length + " bytes, not 1");
        return;
      }
      requested = level[0] & 0xFF;
    }
    int granted = ProtectionLevels.choose(requested, config.protection());
    if (granted < 0) {
      fail("protocol error: gssapi: protection level " + requested + " is not a level");
      return;
    }
    if ((granted != ProtectionLevels.NONE && !context.getIntegState())
        || (granted >= ProtectionLevels.CONFIDENTIALITY && !context.getConfState())) {
      fail("auth failed: gssapi: the context cannot give " + ProtectionLevels.word(granted));
      return;
    }
    byte[] answer = {(byte) granted};
    if (!nec) {
      try {
        answer = context.wrap(answer, 0, 1, new MessageProp(0, false));
      } catch (GSSException e) {
        fail("auth failed: gssapi: cannot wrap the protection level: " + GssapiAcceptor.describe(e));
        return;
      }
    }
    int asked = requested;
    LOG.fine(() -> "session=" + host.id() + " gssapi: client asked for protection " + ProtectionLevels.word(asked)
        + (nec ? " (NEC style, unwrapped)" : "") + ", granted " + ProtectionLevels.word(granted));
    host.write(Buffer.buffer(GssMessages.message(GssFrameDecoder.PROTECTION, answer)));
    if (granted == ProtectionLevels.NONE) {
      // As the client does (curl deletes its context here): nothing more is protected.
      exchange.dispose();
      state = State.PLAIN;
      return;
    }
    try {
      protection = new MessageProtection(exchange.handOver(), granted, decoder);
    } catch (GSSException e) {
      state = State.DONE;
      host.refuse("auth failed: gssapi: " + GssapiAcceptor.describe(e));
      return;
    }
    state = State.PROTECTED;
    handOver = true;
  }

  /**
   * After the decoder returned: once the level is settled, the session takes over, with what the client sent behind
   * the level message (read only now, when the decoder holds all of it).
   */
  private void afterDecoding() {
    if (state == State.PLAIN) {
      state = State.DONE;
      host.authenticated(null, decoder.takeHeld());
    } else if (state == State.PROTECTED && handOver) {
      handOver = false;
      host.authenticated(protection, new byte[0]);
      try {
        protection.resume(host::plaintext);
      } catch (GssapiFailure e) {
        host.end("protocol error: gssapi: " + e.getMessage());
      }
    }
  }

  /** Next message: {@code mtyp}; what was held is read, then the socket. */
  private void goOn(int mtyp) {
    decoder.expect(mtyp);
    decoder.resume();
    afterDecoding();
    if (!busy && !host.ended()) {
      host.resume();
    }
  }

  private void fail(String reason) {
    state = State.DONE;
    exchange.dispose();
    host.refuse(reason);
  }
}
