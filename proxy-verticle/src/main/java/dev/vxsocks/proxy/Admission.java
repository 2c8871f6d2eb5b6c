package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.proxy.codec.ProxyHeader;
import dev.vxsocks.proxy.codec.ProxyProtocolDecoder;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

import java.util.logging.Logger;

/**
 * The first step of a session, before a SOCKS byte is parsed: who the client is, and whether it may talk to us at all.
 * A peer in {@code listen.proxy-protocol-from} (a trusted balancer) must first send its PROXY header, whose address
 * then stands for the client; any other peer is the client, and a PROXY header from it is a forgery (or a balancer
 * nobody listed), so it is closed. Then the client rules for that address; only when they allow is the client's data
 * handed to the negotiation.
 */
final class Admission implements ProxyProtocolDecoder.Listener {

  private static final Logger LOG = Socks5Session.LOG;

  private final Socks5Session session;
  /** Reads the PROXY header of a connection from a trusted balancer; null once read, and for other peers. */
  private ProxyProtocolDecoder proxyDecoder;
  private long proxyHeaderTimer = -1;
  /** True until a direct client's first bytes were looked at (for a PROXY header it has no right to send). */
  private boolean firstRead = true;

  Admission(Socks5Session session) {
    this.session = session;
  }

  void start(boolean proxyHeaderExpected) {
    if (!proxyHeaderExpected) {
      checkClientRules(null);
      return;
    }
    firstRead = false;
    session.phase(Phase.PROXY_HEADER);
    proxyDecoder = new ProxyProtocolDecoder(this);
    long timeoutMs = session.config().listen().proxyProtocolTimeout().toMillis();
    proxyHeaderTimer = session.vertx().setTimer(timeoutMs, t -> {
      proxyHeaderTimer = -1;
      session.stats().proxyHeaderFailures.incrementAndGet();
      session.end("no PROXY protocol header within " + timeoutMs + "ms");
    });
  }

  /**
   * Takes the client's bytes while they are the admission's business: a PROXY header, or a direct client's first
   * bytes. Returns true when it consumed them; false when they are SOCKS bytes for the negotiation, and from then on
   * the admission is done.
   */
  boolean intercept(Buffer data) {
    if (proxyDecoder != null) {
      proxyDecoder.feed(data);
      return true;
    }
    if (firstRead) {
      firstRead = false;
      byte first = data.getByte(0);
      // 'P' starts a PROXY v1 line, CR a v2 signature; a SOCKS5 greeting starts with 5.
      if (first == 'P' || first == '\r') {
        session.stats().untrustedProxyHeaders.incrementAndGet();
        session.end("protocol error: PROXY protocol header from " + session.peer()
            + ", which is not in listen.proxy-protocol-from");
        return true;
      }
    }
    return false;
  }

  @Override
  public void onProxyHeader(ProxyHeader header, Buffer leftover) {
    proxyDecoder = null;
    cancelTimer();
    // A LOCAL header (the balancer's own health check) keeps the balancer as the client.
    String refused = header.local() ? null : session.clientBehindBalancer(header.source());
    LOG.fine(() -> "session=" + session.id() + " PROXY v" + header.version() + " header: "
        + (header.local() ? "local (the balancer itself)" : "client " + session.peer()));
    if (refused != null) {
      session.end("refused: " + refused);
      return;
    }
    checkClientRules(leftover.length() == 0 ? null : leftover);
  }

  @Override
  public void onProxyHeaderError(String reason) {
    proxyDecoder = null;
    cancelTimer();
    session.stats().proxyHeaderFailures.incrementAndGet();
    session.end("bad PROXY protocol header: " + reason);
  }

  /**
   * Client rules for the client's address; {@code pending} holds SOCKS bytes that came behind a PROXY header, fed to
   * the negotiation only once the client is allowed.
   */
  private void checkClientRules(Buffer pending) {
    session.phase(Phase.CLIENT_RULES);
    Future<Verdict> verdict = session.verticle().checkClient(session.clientIp());
    if (verdict.isComplete()) {
      // A remembered verdict: no need to stop reading (pausing and resuming costs two epoll_ctl calls).
      onClientVerdict(verdict, false, pending);
    } else {
      // Nothing is read before the verdict: a paused socket keeps what arrives for later.
      session.control().pause();
      verdict.onComplete(ar -> onClientVerdict(verdict, true, pending));
    }
  }

  private void onClientVerdict(Future<Verdict> verdict, boolean paused, Buffer pending) {
    if (session.ended()) {
      return;
    }
    if (verdict.failed()) {
      LOG.warning("session=" + session.id() + " auth verticle unavailable for client rules: "
          + verdict.cause().getMessage());
      session.end("auth unavailable");
    } else if (!verdict.result().allowed()) {
      LOG.fine(() -> "session=" + session.id() + " client " + session.clientIp() + " refused by "
          + verdict.result().detail());
      session.metrics().refused(ProxyMetrics.CLIENT_RULE);
      session.end("client rules: " + verdict.result().detail());
    } else {
      session.phase(Phase.GREETING);
      if (pending != null) {
        session.onClientData(pending);
      }
      if (paused && !session.ended()) {
        session.control().resume();
      }
    }
  }

  /** The session ended: no timer may fire after it. */
  void cancelTimer() {
    if (proxyHeaderTimer >= 0) {
      session.vertx().cancelTimer(proxyHeaderTimer);
      proxyHeaderTimer = -1;
    }
  }
}
