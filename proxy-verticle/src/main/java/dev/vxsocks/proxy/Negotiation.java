package dev.vxsocks.proxy;

import dev.vxsocks.config.AuthMethodName;
import dev.vxsocks.proxy.codec.AuthMethod;
import dev.vxsocks.proxy.codec.Socks5CommandRequest;
import dev.vxsocks.proxy.codec.Socks5Decoder;
import dev.vxsocks.proxy.codec.Socks5Encoder;
import dev.vxsocks.proxy.codec.Socks5Greeting;
import dev.vxsocks.proxy.codec.Socks5PasswordRequest;
import dev.vxsocks.proxy.codec.Socks5ProtocolException;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.proxy.gssapi.GssMessages;
import dev.vxsocks.proxy.gssapi.GssapiNegotiation;
import dev.vxsocks.proxy.gssapi.MessageProtection;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

import java.time.Duration;
import java.util.List;
import java.util.logging.Logger;

/**
 * The negotiation step of a session (RFC 1928 §3, RFC 1929, RFC 1961): the client's method offer, the server's choice
 * (the first of {@code auth.methods} the client offers), the chosen method's sub-negotiation (GSS-API's is
 * {@link GssapiNegotiation}), and then the request, which goes to the session. A new method is one more {@link AuthMethodName}, one more case in {@link #onGreeting} and its own
 * sub-negotiation here; the session and the commands only see the authenticated user.
 */
final class Negotiation implements Socks5Decoder.Listener {

  private static final Logger LOG = Socks5Session.LOG;

  private static final String METHOD = AuthMethodName.USERNAME_PASSWORD.configName();

  private final Socks5Session session;
  private Socks5Decoder decoder = new Socks5Decoder(this);
  private boolean requested;
  /** GSS-API chosen: the sub-negotiation starts once the decoder has returned what it holds. */
  private boolean gssapiChosen;
  /** During the GSS-API sub-negotiation, and for the whole handshake when a protection level is in force. */
  private GssapiNegotiation gssapi;

  Negotiation(Socks5Session session) {
    this.session = session;
  }

  /** The client's next bytes. */
  void feed(Buffer data) {
    if (gssapi != null) {
      gssapi.feed(data);
      return;
    }
    decoder.feed(data);
    if (gssapiChosen && gssapi == null && !session.ended()) {
      startGssapi();
    }
  }

  /** After the request: what the client sent behind it (pipelined payload), possibly empty. */
  Buffer takeLeftover() {
    return decoder.takeLeftover();
  }

  @Override
  public void onGreeting(Socks5Greeting greeting) {
    AuthMethodName chosen = choose(session.config().auth().methods(), greeting.methods());
    LOG.fine(() -> "session=" + session.id() + " greeting offers " + greeting.methods() + ", chose "
        + (chosen == null ? "none acceptable" : chosen.configName()));
    session.write(Socks5Encoder.methodSelection(chosen == null ? AuthMethod.NO_ACCEPTABLE_METHODS
        : AuthMethod.valueOf(chosen.code())));
    if (chosen == null) {
      session.closeAfterWrite("no acceptable auth method (offered " + greeting.methods() + ")");
      return;
    }
    switch (chosen) {
      case USERNAME_PASSWORD -> {
        session.phase(Phase.AUTH);
        decoder.expectPasswordRequest();
      }
      case GSSAPI -> {
        session.phase(Phase.AUTH);
        gssapiChosen = true;
      }
      case NONE -> {
        session.metrics().authResult(AuthMethodName.NONE.configName(), "ok");
        expectRequest();
      }
    }
  }

  /**
   * RFC 1961: the GSS-API sub-negotiation takes the client's bytes from here (what the greeting's decoder holds
   * first) until it is over; with a protection level in force it goes on unwrapping them for the request.
   */
  private void startGssapi() {
    Buffer rest = decoder.takeLeftover();
    gssapi = new GssapiNegotiation(session.config().auth().gssapi(), new GssapiHost());
    session.onEnd(gssapi::dispose);
    if (rest.length() > 0) {
      gssapi.feed(rest);
    }
  }

  /** The session as the GSS-API sub-negotiation sees it. */
  private final class GssapiHost implements GssapiNegotiation.Host {
    @Override
    public String id() {
      return session.id();
    }

    @Override
    public String clientIp() {
      return session.clientIp();
    }

    @Override
    public void pause() {
      session.control().pause();
    }

    @Override
    public void resume() {
      if (!requested && !session.ended()) {
        session.control().resume();
      }
    }

    @Override
    public void write(Buffer message) {
      session.write(message);
    }

    @Override
    public void refuse(String reason) {
      session.metrics().authResult(AuthMethodName.GSSAPI.configName(), "refused");
      session.write(Buffer.buffer(GssMessages.abort()));
      session.closeAfterWrite(reason);
    }

    @Override
    public void end(String reason) {
      session.end(reason);
    }

    @Override
    public boolean ended() {
      return session.ended();
    }

    @Override
    public void user(String user) {
      session.user(user);
    }

    @Override
    public Future<Verdict> checkUser(String user) {
      return session.authClient().checkUser(user, session.clientIp());
    }

    @Override
    public void authenticated(MessageProtection protection, byte[] plain) {
      session.metrics().authResult(AuthMethodName.GSSAPI.configName(), "ok");
      session.gssapi(gssapi.principal(), protection);
      if (protection == null) {
        gssapi = null;
      }
      decoder = Socks5Decoder.forRequest(Negotiation.this);
      session.phase(Phase.REQUEST);
      if (plain.length > 0) {
        decoder.feed(Buffer.buffer(plain));
      }
    }

    @Override
    public void plaintext(byte[] plain) {
      decoder.feed(Buffer.buffer(plain));
    }
  }

  /** The server's preference first: the first configured method the client offers, or null. */
  static AuthMethodName choose(List<AuthMethodName> configured, List<AuthMethod> offered) {
    for (AuthMethodName m : configured) {
      if (offered.contains(AuthMethod.valueOf(m.code()))) {
        return m;
      }
    }
    return null;
  }

  /**
   * RFC 1929: the credentials go to the auth verticle; reading stops until it answers. The answer may wait for the
   * slow hash behind other logins (a storm after a failover), so it is awaited for the rest of the handshake deadline,
   * not just {@code timeouts.auth}: a login still queued when the deadline comes is closed as a handshake timeout, which
   * a client retries, rather than answered "bad credentials", which it may not.
   */
  @Override
  public void onPasswordRequest(Socks5PasswordRequest request) {
    String name = request.username();
    if (name.isEmpty() || request.password().isEmpty()) {
      session.user(name.isEmpty() ? null : name);
      session.metrics().authResult(METHOD, "bad-credentials");
      session.write(Socks5Encoder.passwordStatus(false));
      session.closeAfterWrite("auth failed: empty " + (name.isEmpty() ? "user name" : "password"));
      return;
    }
    session.control().pause();
    // A second past the deadline: the handshake timer, not the request's timeout, ends a login that waited too long.
    Duration wait = session.handshakeTimeLeft().plusSeconds(1);
    session.authClient().authenticate(name, request.password(), session.clientIp(), wait).onComplete(ar -> {
      if (session.ended()) {
        return;
      }
      session.user(name);
      session.metrics().authResult(METHOD, ar.failed() ? "unavailable" : ar.result().reason());
      if (ar.failed()) {
        LOG.warning("session=" + session.id() + " auth verticle unavailable for authentication: "
            + ar.cause().getMessage());
        session.write(Socks5Encoder.passwordStatus(false));
        session.closeAfterWrite("auth unavailable");
      } else if (!ar.result().allowed()) {
        session.write(Socks5Encoder.passwordStatus(false));
        session.closeAfterWrite("auth failed: " + ar.result().reason());
      } else {
        LOG.fine(() -> "session=" + session.id() + " user " + LogText.safe(name) + " authenticated ("
            + ar.result().detail() + ")");
        session.write(Socks5Encoder.passwordStatus(true));
        expectRequest();
        // A request pipelined behind the credentials has just been parsed. Only if it has not arrived yet is the
        // socket resumed: resuming hands over at once what waited meanwhile (payload, even the client's FIN), which
        // belongs to the relay once there is a request.
        if (!requested && !session.ended()) {
          session.control().resume();
        }
      }
    });
  }

  private void expectRequest() {
    session.phase(Phase.REQUEST);
    decoder.expectCommandRequest();
  }

  @Override
  public void onCommandRequest(Socks5CommandRequest request) {
    requested = true;
    session.onRequest(request);
  }

  @Override
  public void onProtocolError(Socks5ProtocolException error) {
    switch (error.kind()) {
      case BAD_VERSION -> {
        if (session.phase() == Phase.GREETING) {
          // Not a SOCKS5 client: RFC 1928 has no reply for it.
          session.end("protocol error: " + error.getMessage());
        } else {
          session.fail(error);
        }
      }
      case BAD_AUTH_ENCODING -> {
        // Not a login attempt the throttle counts (no user could match), but one the metrics show.
        session.metrics().authResult(METHOD, "malformed");
        session.write(Socks5Encoder.passwordStatus(false));
        session.closeAfterWrite("auth failed: " + error.getMessage());
      }
      case BAD_AUTH_VERSION -> {
        session.write(Socks5Encoder.passwordStatus(false));
        session.closeAfterWrite("protocol error: " + error.getMessage());
      }
      default -> session.fail(error);
    }
  }
}
