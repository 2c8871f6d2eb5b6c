package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.auth.api.AuthUnavailableException;
import dev.vxsocks.auth.api.AuthorizeRequest;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.codec.Command;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5CommandRequest;
import dev.vxsocks.proxy.codec.Socks5Encoder;
import dev.vxsocks.proxy.codec.Socks5Failure;
import dev.vxsocks.proxy.codec.Socks5ProtocolException;
import dev.vxsocks.proxy.codec.Socks5ProtocolException.Kind;
import dev.vxsocks.proxy.command.BindCommand;
import dev.vxsocks.proxy.command.CommandContext;
import dev.vxsocks.proxy.command.ConnectCommand;
import dev.vxsocks.proxy.command.DatagramProtection;
import dev.vxsocks.proxy.command.NodeServices;
import dev.vxsocks.proxy.command.UdpAssociateCommand;
import dev.vxsocks.proxy.gssapi.MessageProtection;
import dev.vxsocks.proxy.gssapi.ProtectionLevels;
import dev.vxsocks.proxy.relay.Relay;
import dev.vxsocks.proxy.transport.DirectWrites;
import dev.vxsocks.proxy.transport.HalfClose;
import dev.vxsocks.proxy.transport.ZeroCopy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client connection, from accept to close: its lifecycle. The steps are classes of their own: {@link Admission}
 * (PROXY header, client rules), {@link Negotiation} (greeting, method, sub-negotiation, request), then one command
 * ({@link ConnectCommand}, {@link BindCommand}, {@link UdpAssociateCommand}) that sees this session only through
 * {@link CommandContext}, then the {@link Relay}. This class keeps what spans them: the socket, the handshake timer,
 * the session slot, the cleanups, the reply, and the one summary line in the {@code dev.vxsocks.session} log that
 * every session ends with. Everything runs on the socket's event loop.
 *
 * <p>Longer than our other classes for a reason: it is the one implementation of {@link CommandContext} (a short
 * method each), and the fields those methods share (slot lease, reply, relay, cleanups) are one state that ends in one
 * summary line; spreading it over classes would make each of them reach back into the others, which is what the
 * command classes were split out to stop.
 */
final class Socks5Session implements CommandContext, Relay.Listener {

  static final Logger LOG = Logger.getLogger("dev.vxsocks.session");

  private final Socks5ProxyVerticle verticle;
  private final NodeServices node;
  private final ProxyConfig config;
  private final NetSocket socket;
  private final String id;
  /** This connection's hold on the node's counts and its source's share. */
  private final AcceptGate.Ticket ticket;
  private final long startNanos = System.nanoTime();
  /** The client: the peer, or the address a trusted balancer's PROXY header names (then {@link #via} is the peer). */
  private String clientIp;
  private int clientPort;
  /** The balancer the connection came through ({@code host:port}); null for a direct client. */
  private String via;
  /** Until the client's first SOCKS bytes; null afterwards. */
  private Admission admission;
  /** Until the request; null afterwards, so that a held session does not keep the parser. */
  private Negotiation negotiation;
  private Phase phase = Phase.ACCEPT;
  private boolean inHandshake = true;
  private long handshakeTimer = -1;
  private String user;
  private Command command;
  private String target;
  private ReplyCode reply;
  private String lease;
  private NetSocket upstream;
  private Relay relay;
  private boolean finished;
  // Only BIND and UDP ASSOCIATE add to these; a CONNECT session (the usual one) never allocates them.
  private List<Runnable> cleanups = List.of();
  private List<TimeoutCheck> timeoutChecks = List.of();
  private Supplier<String> summaryExtra;
  /** GSS-API: the authenticated principal, for the summary line; null for other methods. */
  private String principal;
  /** A GSS-API protection level in force: the reply and the relay go through it. Null otherwise. */
  private MessageProtection protection;

  Socks5Session(Socks5ProxyVerticle verticle, NodeServices node, NetSocket socket, String id,
                AcceptGate.Ticket ticket) {
    this.verticle = verticle;
    this.node = node;
    this.config = verticle.proxyConfig();
    this.socket = socket;
    this.id = id;
    this.ticket = ticket;
    SocketAddress remote = socket.remoteAddress();
    this.clientIp = remote.hostAddress();
    this.clientPort = remote.port();
  }

  /** Accept: the socket is set up for the relay to come, the handshake timer starts, then the admission. */
  void start(boolean proxyHeaderExpected) {
    DirectWrites.apply(socket);
    if (!HalfClose.enable(socket)) {
      end("client closed at once");
      return;
    }
    ZeroCopy.copying(socket, this::onClientData);
    socket.exceptionHandler(err -> LOG.fine(() -> "session=" + id + " socket error in " + phase + ": " + err));
    socket.closeHandler(v -> end(inHandshake ? "client closed during " + phase : "client closed"));
    handshakeTimer = node.vertx().setTimer(config.timeouts().handshake().toMillis(), t -> {
      handshakeTimer = -1;
      end("handshake timeout in " + phase);
    });
    admission = new Admission(this);
    negotiation = new Negotiation(this);
    admission.start(proxyHeaderExpected);
  }

  /** What is left of {@code timeouts.handshake} since accept (at least 1 ms). */
  Duration handshakeTimeLeft() {
    long left = config.timeouts().handshake().toNanos() - (System.nanoTime() - startNanos);
    return Duration.ofNanos(Math.max(left, 1_000_000));
  }

  /** The client's bytes during the handshake (and, for UDP ASSOCIATE, the control connection's end). */
  void onClientData(Buffer data) {
    if (data.length() == 0) {
      end("client ended during " + phase);
      return;
    }
    if (admission != null) {
      if (admission.intercept(data)) {
        return;
      }
      admission = null;
    }
    if (negotiation != null) {
      negotiation.feed(data);
    }
  }

  /** The request: from here on, one command owns what happens until the reply. */
  void onRequest(Socks5CommandRequest request) {
    socket.pause();
    cancelHandshakeTimer();
    command = request.command();
    target = IpLiterals.hostPort(request.dstAddr(), request.dstPort());
    if (request.rsv() != 0) {
      LOG.fine(() -> "session=" + id + " request RSV is " + request.rsv() + ", ignored");
    }
    LOG.fine(() -> "session=" + id + " request " + command + " " + LogText.safe(target));
    if (command.name() == null) {
      fail(new Socks5ProtocolException(Kind.UNSUPPORTED_COMMAND, "unknown command " + command));
      return;
    }
    node.metrics().commandStarted(command.name());
    switch (command.name()) {
      case CONNECT -> new ConnectCommand(this, node, request).start();
      case BIND -> new BindCommand(this, node, request).start();
      case UDP_ASSOCIATE -> new UdpAssociateCommand(this, node, request).start();
    }
  }

  // ---- CommandContext: what a command may do ----

  @Override
  public String id() {
    return id;
  }

  @Override
  public ProxyConfig config() {
    return config;
  }

  @Override
  public InetAddress clientAddress() {
    return IpLiterals.parse(clientIp);
  }

  @Override
  public String user() {
    return user;
  }

  @Override
  public NetSocket control() {
    return socket;
  }

  @Override
  public void phase(Phase phase) {
    this.phase = phase;
  }

  @Override
  public Future<Void> authorize(String host, InetAddress address, int port) {
    return authorize(host, address, port, false);
  }

  @Override
  public Future<Void> authorizeAndOpen(String host, InetAddress address, int port) {
    return authorize(host, address, port, lease == null);
  }

  private Future<Void> authorize(String host, InetAddress address, int port, boolean andOpen) {
    phase = Phase.AUTHORIZE;
    if (address != null && verticle.isOwnListener(address, port)) {
      return Future.failedFuture(new RequestDeniedException(
          Verdict.deny(Verdict.DENIED, "destination is this proxy's own listening port")));
    }
    AuthorizeRequest request = new AuthorizeRequest(user, clientIp, command.name(), host,
        address == null ? null : address.getHostAddress(), port);
    AuthClient auth = node.auth();
    return (andOpen ? auth.authorizeAndOpen(request) : auth.authorize(request)).compose(this::granted);
  }

  @Override
  public Future<Void> openSession() {
    if (lease != null) {
      return Future.succeededFuture();
    }
    phase = Phase.SESSION_LIMITS;
    return node.auth().openSession(user, clientIp).compose(this::granted);
  }

  /** A verdict's lease becomes the session's slot; a refusal fails; a slot granted after the end goes back. */
  private Future<Void> granted(Verdict verdict) {
    if (!verdict.allowed()) {
      return Future.failedFuture(new RequestDeniedException(verdict));
    }
    if (verdict.lease() != null) {
      if (finished) {
        node.auth().closeSession(verdict.lease());
        return Future.failedFuture("session ended");
      }
      lease = verdict.lease();
    }
    return Future.succeededFuture();
  }

  @Override
  public void replied(InetAddress bndAddr, int bndPort) {
    reply = ReplyCode.SUCCEEDED;
    socket.write(toClient(Socks5Encoder.reply(ReplyCode.SUCCEEDED, bndAddr, bndPort)));
    endHandshake();
  }

  @Override
  public void relay(NetSocket peer, InetAddress bndAddr, int bndPort) {
    this.upstream = peer;
    DirectWrites.apply(peer);
    ZeroCopy.hold(peer);
    if (!HalfClose.enable(peer)) {
      fail(new Socks5Failure(ReplyCode.CONNECTION_REFUSED, "the connection closed before the relay started"));
      return;
    }
    reply = ReplyCode.SUCCEEDED;
    Future<Void> replied = socket.write(toClient(Socks5Encoder.reply(ReplyCode.SUCCEEDED, bndAddr, bndPort)));
    Buffer leftover = negotiation.takeLeftover();
    negotiation = null;
    endHandshake();
    phase = Phase.RELAY;
    relay = protection == null ? new Relay(socket, peer, this)
        : new Relay(socket, peer, this, protection.fromClient(), protection.toClient());
    relay.sendAhead(replied, leftover);
    relay.start();
  }

  @Override
  public void fail(Throwable cause) {
    if (finished) {
      return;
    }
    reply = ReplyCodes.of(cause);
    socket.write(toClient(Socks5Encoder.reply(reply)));
    if (cause instanceof RequestDeniedException denied) {
      node.metrics().refused(denied.cause());
    } else if (cause instanceof AuthUnavailableException) {
      node.metrics().refused(ProxyMetrics.AUTH_UNAVAILABLE);
    }
    String why = cause instanceof Socks5Failure ? cause.getMessage()
        : phase + " failed: " + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage());
    if (cause instanceof AuthUnavailableException) {
      LOG.warning("session=" + id + " auth verticle unavailable: " + cause.getMessage());
    }
    closeAfterWrite(why);
  }

  @Override
  public boolean ended() {
    return finished;
  }

  @Override
  public void onEnd(Runnable release) {
    if (cleanups.isEmpty()) {
      cleanups = new ArrayList<>(2);
    }
    cleanups.add(release);
  }

  @Override
  public void onSweep(TimeoutCheck check) {
    if (timeoutChecks.isEmpty()) {
      timeoutChecks = new ArrayList<>(1);
    }
    timeoutChecks.add(check);
  }

  @Override
  public void summary(Supplier<String> fields) {
    this.summaryExtra = fields;
  }

  @Override
  public DatagramProtection datagramProtection() {
    return protection;
  }

  // ---- For the steps of this package ----

  Socks5ProxyVerticle verticle() {
    return verticle;
  }

  Vertx vertx() {
    return node.vertx();
  }

  AuthClient authClient() {
    return node.auth();
  }

  ProxyMetrics metrics() {
    return node.metrics();
  }

  ProxyStats stats() {
    return verticle.stats();
  }

  Phase phase() {
    return phase;
  }

  String clientIp() {
    return clientIp;
  }

  /** The client as {@code host:port}. */
  String peer() {
    return IpLiterals.hostPort(clientIp, clientPort);
  }

  void user(String user) {
    this.user = user;
  }

  /**
   * A trusted balancer named the client: it stands for the client from now on, and the balancer is {@code via}. The
   * client's source takes over the connection's share (unless the client is a trusted balancer itself); the refusal
   * when that source is past its share, else null.
   */
  String clientBehindBalancer(InetSocketAddress client) {
    via = peer();
    clientIp = client.getAddress().getHostAddress();
    clientPort = client.getPort();
    InetAddress address = client.getAddress();
    return Socks5ProxyVerticle.isTrustedBalancer(config, address) ? null : ticket.reassign(address, config.limits());
  }

  void write(Buffer message) {
    socket.write(message);
  }

  /** GSS-API authenticated {@code principal}; {@code protection} (null: none) applies to every byte from now on. */
  void gssapi(String principal, MessageProtection protection) {
    this.principal = principal;
    this.protection = protection;
  }

  /** A reply as the client must get it: wrapped when a GSS-API protection level is in force (RFC 1961 §5). */
  private Buffer toClient(Buffer reply) {
    return protection == null ? reply : protection.wrap(reply);
  }

  /** Ends the session once everything written so far has gone out (a refusal the client should read). */
  void closeAfterWrite(String reason) {
    if (finished) {
      return;
    }
    socket.write(Buffer.buffer()).onComplete(ar -> end(reason));
  }

  /** The handshake is over (relay or association running): the pending-handshake count drops. */
  private void endHandshake() {
    if (inHandshake) {
      inHandshake = false;
      ticket.handshakeDone();
      if (reply == ReplyCode.SUCCEEDED) {
        node.metrics().handshake(System.nanoTime() - startNanos);
      }
    }
  }

  @Override
  public void onRelayEnd(String reason) {
    end(reason);
  }

  /** Called by the verticle's sweep. */
  void checkTimeouts(long nowNanos) {
    if (finished) {
      return;
    }
    for (TimeoutCheck check : timeoutChecks) {
      check.check(nowNanos);
    }
    if (relay == null) {
      return;
    }
    if (nowNanos - relay.lastActivityNanos() > config.timeouts().idle().toNanos()) {
      relay.close("idle timeout");
    } else if (relay.halfClosedSinceNanos() != 0
        && nowNanos - relay.halfClosedSinceNanos() > config.timeouts().halfClose().toNanos()) {
      relay.close("half-close timeout");
    }
  }

  /** Ends the session: closes everything, gives the slot back, writes the summary line. Idempotent. */
  @Override
  public void end(String reason) {
    if (finished) {
      return;
    }
    finished = true;
    cancelHandshakeTimer();
    if (admission != null) {
      admission.cancelTimer();
    }
    endHandshake();
    ticket.release();
    for (Runnable r : cleanups) {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "session=" + id + " cleanup failed", e);
      }
    }
    socket.close();
    if (relay != null) {
      relay.close(reason);
    } else if (upstream != null) {
      upstream.close();
    }
    if (protection != null) {
      protection.dispose();
    }
    node.auth().closeSession(lease);
    verticle.forget(this);
    node.metrics().ended(command == null ? null : command.name(), reply, relay == null ? 0 : relay.bytesUp(),
        relay == null ? 0 : relay.bytesDown());
    if (LOG.isLoggable(Level.INFO)) {
      LOG.info(summaryLine(reason));
    }
  }

  private String summaryLine(String reason) {
    long ms = (System.nanoTime() - startNanos) / 1_000_000;
    return "session=" + id + " client=" + IpLiterals.hostPort(clientIp, clientPort)
        + (via == null ? "" : " via=" + via) + " user=" + LogText.safe(user)
        + " cmd=" + (command == null ? "-" : command) + " target=" + LogText.safe(target)
        + " reply=" + (reply == null ? "-" : reply.word()) + " up=" + (relay == null ? 0 : relay.bytesUp())
        + " down=" + (relay == null ? 0 : relay.bytesDown()) + " duration=" + ms + "ms"
        + (summaryExtra == null ? "" : " " + summaryExtra.get())
        + (principal == null ? "" : " principal=" + LogText.safe(principal) + " protection="
            + (protection == null ? "none" : ProtectionLevels.word(protection.level())))
        + " close=\"" + reason + "\"";
  }

  private void cancelHandshakeTimer() {
    if (handshakeTimer >= 0) {
      node.vertx().cancelTimer(handshakeTimer);
      handshakeTimer = -1;
    }
  }
}
