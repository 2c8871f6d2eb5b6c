package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.auth.api.AuthUnavailableException;
import dev.vxsocks.auth.api.AuthorizeRequest;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.codec.AddressType;
import dev.vxsocks.proxy.codec.AuthMethod;
import dev.vxsocks.proxy.codec.Command;
import dev.vxsocks.proxy.codec.ProxyHeader;
import dev.vxsocks.proxy.codec.ProxyProtocolDecoder;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5CommandRequest;
import dev.vxsocks.proxy.codec.Socks5Decoder;
import dev.vxsocks.proxy.codec.Socks5Encoder;
import dev.vxsocks.proxy.codec.Socks5Greeting;
import dev.vxsocks.proxy.codec.Socks5PasswordRequest;
import dev.vxsocks.proxy.codec.Socks5ProtocolException;
import dev.vxsocks.proxy.codec.Socks5ProtocolException.Kind;
import dev.vxsocks.proxy.transport.DirectWrites;
import dev.vxsocks.proxy.transport.HalfClose;
import dev.vxsocks.proxy.relay.Relay;
import dev.vxsocks.proxy.transport.ZeroCopy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client connection, from accept to close (RFC 1928 and RFC 1929). It owns the socket, its timers and its
 * cleanup; everything runs on the socket's event loop. Phases: accept → PROXY protocol header (only from a trusted
 * balancer) → client rules → greeting (method selection) → username/password → request (rules, session slot) →
 * connect → relay. Every failure goes through
 * {@link ReplyCodes#of} to pick the reply, and every session ends with exactly one summary line in the
 * {@code dev.vxsocks.session} log.
 */
final class Socks5Session implements Socks5Decoder.Listener, ProxyProtocolDecoder.Listener, Relay.Listener {

  static final Logger LOG = Logger.getLogger("dev.vxsocks.session");

  private final Socks5ProxyVerticle verticle;
  private final Vertx vertx;
  private final ProxyConfig config;
  private final AuthClient auth;
  private final NetClient connector;
  private final NetSocket socket;
  private final ProxyStats stats;
  private final String id;
  /** The client: the peer, or the address a trusted balancer's PROXY header names (then {@link #via} is the peer). */
  private String clientIp;
  private int clientPort;
  /** The balancer the connection came through ({@code host:port}); null for a direct client. */
  private String via;
  /** Reads the PROXY header of a connection from a trusted balancer; null once read, and for other peers. */
  private ProxyProtocolDecoder proxyDecoder;
  private long proxyHeaderTimer = -1;
  /** True until a direct client's first bytes were looked at (for a PROXY header it has no right to send). */
  private boolean firstRead = true;
  /** The handshake's parser; dropped once the request is answered, so a held session does not keep it. */
  private Socks5Decoder decoder = new Socks5Decoder(this);
  private final long startNanos = System.nanoTime();

  private String phase = "accept";
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
  // Only BIND and UDP ASSOCIATE add to these two; a CONNECT session (the usual one) never allocates them.
  private List<Runnable> cleanups = List.of();
  private List<TimeoutCheck> timeoutChecks = List.of();
  private Supplier<String> summaryExtra;

  /** A command's own timer check, run by the verticle's one-second sweep. */
  interface TimeoutCheck {
    void check(long nowNanos);
  }

  Socks5Session(Socks5ProxyVerticle verticle, NetSocket socket, String id) {
    this.verticle = verticle;
    this.vertx = verticle.vertx();
    this.config = verticle.proxyConfig();
    this.auth = verticle.auth();
    this.connector = verticle.connector();
    this.socket = socket;
    this.stats = verticle.stats();
    this.id = id;
    SocketAddress remote = socket.remoteAddress();
    this.clientIp = remote.hostAddress();
    this.clientPort = remote.port();
  }

  String id() {
    return id;
  }

  /** Runs when the session finishes, whatever the reason (releases a command's sockets). */
  void onFinish(Runnable cleanup) {
    if (cleanups.isEmpty()) {
      cleanups = new ArrayList<>(2);
    }
    cleanups.add(cleanup);
  }

  void onSweep(TimeoutCheck check) {
    if (timeoutChecks.isEmpty()) {
      timeoutChecks = new ArrayList<>(1);
    }
    timeoutChecks.add(check);
  }

  /** More fields for the summary line (a UDP association's counters). */
  void summaryExtra(Supplier<String> extra) {
    this.summaryExtra = extra;
  }

  boolean isFinished() {
    return finished;
  }

  void phase(String phase) {
    this.phase = phase;
  }

  /** Marks the request as answered with success outside {@link #relay} (a UDP association). */
  void replied(ReplyCode code) {
    this.reply = code;
  }

  Socks5ProxyVerticle verticle() {
    return verticle;
  }

  NetSocket socket() {
    return socket;
  }

  String clientIp() {
    return clientIp;
  }

  String user() {
    return user;
  }

  ProxyConfig config() {
    return config;
  }

  AuthClient auth() {
    return auth;
  }

  Vertx vertx() {
    return vertx;
  }

  /**
   * Accept: a peer that is a trusted balancer must first send its PROXY header, whose address then stands for the
   * client; every other peer is the client. Then client rules, before a single SOCKS byte is read.
   */
  void start(boolean proxyHeaderExpected) {
    DirectWrites.apply(socket);
    if (!HalfClose.enable(socket)) {
      finish("client closed at once");
      return;
    }
    ZeroCopy.copying(socket, this::onClientData);
    socket.exceptionHandler(err -> LOG.fine(() -> "session=" + id + " socket error in " + phase + ": " + err));
    socket.closeHandler(v -> finish(inHandshake ? "client closed during " + phase : "client closed"));
    handshakeTimer = vertx.setTimer(config.timeouts().handshake().toMillis(), t -> {
      handshakeTimer = -1;
      finish("handshake timeout in " + phase);
    });
    if (proxyHeaderExpected) {
      firstRead = false;
      phase = "proxy header";
      proxyDecoder = new ProxyProtocolDecoder(this);
      proxyHeaderTimer = vertx.setTimer(config.listen().proxyProtocolTimeout().toMillis(), t -> {
        proxyHeaderTimer = -1;
        stats.proxyHeaderFailures.incrementAndGet();
        finish("no PROXY protocol header within " + config.listen().proxyProtocolTimeout().toMillis() + "ms");
      });
      return;
    }
    checkClientRules(null);
  }

  @Override
  public void onProxyHeader(ProxyHeader header, Buffer leftover) {
    proxyDecoder = null;
    cancelProxyHeaderTimer();
    if (!header.local()) {
      // A LOCAL header (the balancer's own health check) keeps the balancer as the client.
      via = IpLiterals.hostPort(clientIp, clientPort);
      clientIp = header.source().getAddress().getHostAddress();
      clientPort = header.source().getPort();
    }
    LOG.fine(() -> "session=" + id + " PROXY v" + header.version() + " header: "
        + (header.local() ? "local (the balancer itself)" : "client " + IpLiterals.hostPort(clientIp, clientPort)));
    checkClientRules(leftover.length() == 0 ? null : leftover);
  }

  @Override
  public void onProxyHeaderError(String reason) {
    proxyDecoder = null;
    stats.proxyHeaderFailures.incrementAndGet();
    finish("bad PROXY protocol header: " + reason);
  }

  /**
   * Client rules for the client's address; {@code pending} holds SOCKS bytes that came behind a PROXY header, fed to
   * the decoder only once the client is allowed.
   */
  private void checkClientRules(Buffer pending) {
    phase = "client rules";
    Future<Verdict> verdict = verticle.checkClient(clientIp);
    if (verdict.isComplete()) {
      // A remembered verdict: no need to stop reading (pausing and resuming costs two epoll_ctl calls).
      onClientVerdict(verdict, false, pending);
    } else {
      // Nothing is read before the verdict: a paused socket keeps what arrives for later.
      socket.pause();
      verdict.onComplete(ar -> onClientVerdict(verdict, true, pending));
    }
  }

  private void onClientVerdict(Future<Verdict> verdict, boolean paused, Buffer pending) {
    if (finished) {
      return;
    }
    if (verdict.failed()) {
      LOG.warning("session=" + id + " auth verticle unavailable for client rules: " + verdict.cause().getMessage());
      finish("auth unavailable");
    } else if (!verdict.result().allowed()) {
      LOG.fine(() -> "session=" + id + " client " + clientIp + " refused by " + verdict.result().detail());
      finish("client rules: " + verdict.result().detail());
    } else {
      phase = "greeting";
      if (pending != null) {
        onClientData(pending);
      }
      if (paused && !finished) {
        socket.resume();
      }
    }
  }

  private void onClientData(Buffer data) {
    if (data.length() == 0) {
      finish("client ended during " + phase);
      return;
    }
    if (proxyDecoder != null) {
      proxyDecoder.feed(data);
      return;
    }
    if (firstRead) {
      firstRead = false;
      byte first = data.getByte(0);
      // 'P' starts a PROXY v1 line, CR a v2 signature; a SOCKS5 greeting starts with 5. Only a listed balancer may
      // name the client's address, so from anyone else a header is a forgery attempt or a misconfigured balancer.
      if (first == 'P' || first == '\r') {
        stats.untrustedProxyHeaders.incrementAndGet();
        finish("protocol error: PROXY protocol header from " + IpLiterals.hostPort(clientIp, clientPort)
            + ", which is not in listen.proxy-protocol-from");
        return;
      }
    }
    decoder.feed(data);
  }

  @Override
  public void onGreeting(Socks5Greeting greeting) {
    AuthMethod chosen = AuthMethod.NO_ACCEPTABLE_METHODS;
    for (String preferred : config.auth().methods()) {
      AuthMethod m = ProxyConfig.METHOD_NONE.equals(preferred) ? AuthMethod.NO_AUTH : AuthMethod.USERNAME_PASSWORD;
      if (greeting.methods().contains(m)) {
        chosen = m;
        break;
      }
    }
    LOG.fine(() -> "session=" + id + " greeting offers " + greeting.methods() + ", chose " + chosenName(greeting));
    socket.write(Socks5Encoder.methodSelection(chosen));
    if (chosen == AuthMethod.NO_ACCEPTABLE_METHODS) {
      closeAfterWrite("no acceptable auth method (offered " + greeting.methods() + ")");
    } else if (chosen == AuthMethod.USERNAME_PASSWORD) {
      phase = "auth";
      decoder.expectPasswordRequest();
    } else {
      phase = "request";
      decoder.expectCommandRequest();
    }
  }

  private String chosenName(Socks5Greeting greeting) {
    return config.auth().methods().stream()
        .filter(p -> greeting.methods().contains(ProxyConfig.METHOD_NONE.equals(p) ? AuthMethod.NO_AUTH : AuthMethod.USERNAME_PASSWORD))
        .findFirst().orElse("none acceptable");
  }

  @Override
  public void onPasswordRequest(Socks5PasswordRequest request) {
    String name = request.username();
    if (name.isEmpty() || request.password().isEmpty()) {
      user = name.isEmpty() ? null : name;
      socket.write(Socks5Encoder.passwordStatus(false));
      closeAfterWrite("auth failed: empty " + (name.isEmpty() ? "user name" : "password"));
      return;
    }
    socket.pause();
    auth.authenticate(name, request.password(), clientIp).onComplete(ar -> {
      if (finished) {
        return;
      }
      user = name;
      if (ar.failed()) {
        LOG.warning("session=" + id + " auth verticle unavailable for authentication: " + ar.cause().getMessage());
        socket.write(Socks5Encoder.passwordStatus(false));
        closeAfterWrite("auth unavailable");
      } else if (!ar.result().allowed()) {
        socket.write(Socks5Encoder.passwordStatus(false));
        closeAfterWrite("auth failed: " + ar.result().reason());
      } else {
        LOG.fine(() -> "session=" + id + " user " + LogText.safe(name) + " authenticated (" + ar.result().detail() + ")");
        socket.write(Socks5Encoder.passwordStatus(true));
        phase = "request";
        // A request pipelined behind the credentials is parsed right here. Only if it has not arrived yet is the
        // socket resumed: resuming hands over at once what waited meanwhile (payload, even the client's FIN), which
        // belongs to the relay once there is a request.
        decoder.expectCommandRequest();
        if (command == null && !finished) {
          socket.resume();
        }
      }
    });
  }

  @Override
  public void onCommandRequest(Socks5CommandRequest request) {
    socket.pause();
    cancelHandshakeTimer();
    command = request.command();
    target = IpLiterals.hostPort(request.dstAddr(), request.dstPort());
    if (request.rsv() != 0) {
      LOG.fine(() -> "session=" + id + " request RSV is " + request.rsv() + ", ignored");
    }
    LOG.fine(() -> "session=" + id + " request " + command + " " + LogText.safe(target));
    if (command.equals(Command.BIND)) {
      phase = "bind";
      new BindCommand(this, request).start();
      return;
    }
    if (command.equals(Command.UDP_ASSOCIATE)) {
      phase = "udp-associate";
      new UdpAssociation(this, request).start();
      return;
    }
    if (!command.equals(Command.CONNECT)) {
      fail(new Socks5ProtocolException(Kind.UNSUPPORTED_COMMAND, "unknown command " + command));
      return;
    }
    phase = "resolve";
    resolve(request).compose(addresses -> connect(request, addresses, 0)).onComplete(ar -> {
      if (ar.failed()) {
        fail(ar.cause());
      } else if (finished) {
        ar.result().close();
      } else {
        startRelay(ar.result());
      }
    });
  }

  @Override
  public void onProtocolError(Socks5ProtocolException error) {
    switch (error.kind()) {
      case BAD_VERSION:
        if ("greeting".equals(phase)) {
          // Not a SOCKS5 client: RFC 1928 has no reply for it.
          finish("protocol error: " + error.getMessage());
        } else {
          fail(error);
        }
        return;
      case BAD_AUTH_VERSION:
        socket.write(Socks5Encoder.passwordStatus(false));
        closeAfterWrite("protocol error: " + error.getMessage());
        return;
      default:
        fail(error);
    }
  }

  /** The destination's addresses: the literal one, or the name resolved off the event loop. */
  private Future<List<InetAddress>> resolve(Socks5CommandRequest request) {
    if (!request.dstAddrType().equals(AddressType.DOMAIN)) {
      return Future.succeededFuture(List.of(IpLiterals.parse(request.dstAddr())));
    }
    InetAddress literal = IpLiterals.parse(request.dstAddr());
    if (literal != null) {
      return Future.succeededFuture(List.of(literal));
    }
    String name = request.dstAddr();
    return vertx.executeBlocking(() -> Arrays.asList(InetAddress.getAllByName(name)), false);
  }

  /**
   * Authorizes and connects to {@code addresses[i]}, moving on to the next address of a name when one refuses or
   * cannot be reached. The session slot is taken once, before the first connect.
   */
  private Future<NetSocket> connect(Socks5CommandRequest request, List<InetAddress> addresses, int i) {
    InetAddress address = addresses.get(i);
    String host = request.dstAddrType().equals(AddressType.DOMAIN) ? request.dstAddr() : null;
    return authorize(host, address, request.dstPort(), lease == null)
        .compose(v -> {
          if (finished) {
            return Future.failedFuture("session ended");
          }
          phase = "connect";
          // The timeout travels with each connect: a configuration applied live changes it for new sessions.
          return connector.connect(new ConnectOptions()
              .setRemoteAddress(SocketAddress.inetSocketAddress(request.dstPort(), address.getHostAddress()))
              .setTimeout((int) Math.min(Integer.MAX_VALUE, config.timeouts().connect().toMillis())));
        })
        .recover(err -> {
          // A name's next address is worth trying after a refused connect or a rule that denies this address; not
          // after a session limit or an auth verticle failure, which the next address would meet again.
          boolean another = i + 1 < addresses.size() && !finished && !(err instanceof AuthUnavailableException)
              && !(err instanceof RequestDeniedException d && Verdict.LIMIT.equals(d.verdict().reason()));
          if (another) {
            LOG.fine(() -> "session=" + id + " " + address.getHostAddress() + " failed (" + err + "), trying the next address");
            return connect(request, addresses, i + 1);
          }
          return Future.failedFuture(err);
        });
  }

  /**
   * Request rules for {@code command} to {@code host}/{@code address}:{@code port} (both null: no particular
   * destination). Fails with {@link RequestDeniedException} when refused.
   */
  Future<Void> authorize(String host, InetAddress address, int port) {
    return authorize(host, address, port, false);
  }

  /** As {@link #authorize(String, InetAddress, int)}; with {@code andOpen}, also takes the session slot (one round trip). */
  private Future<Void> authorize(String host, InetAddress address, int port, boolean andOpen) {
    phase = "authorize";
    if (address != null && verticle.isOwnListener(address, port)) {
      return Future.failedFuture(new RequestDeniedException(
          Verdict.deny(Verdict.DENIED, "destination is this proxy's own listening port")));
    }
    AuthorizeRequest request = new AuthorizeRequest(user, clientIp, command.toString(), host,
        address == null ? null : address.getHostAddress(), port);
    return (andOpen ? auth.authorizeAndOpen(request) : auth.authorize(request)).compose(verdict -> {
      if (!verdict.allowed()) {
        return Future.failedFuture(new RequestDeniedException(verdict));
      }
      if (verdict.lease() != null) {
        if (finished) {
          auth.closeSession(verdict.lease());
          return Future.failedFuture("session ended");
        }
        lease = verdict.lease();
      }
      return Future.succeededFuture();
    });
  }

  /** Takes this session's slot (once); fails with {@link RequestDeniedException} over a limit. */
  Future<Void> openSession() {
    if (lease != null) {
      return Future.succeededFuture();
    }
    phase = "session limits";
    return auth.openSession(user, clientIp).compose(verdict -> {
      if (!verdict.allowed()) {
        return Future.failedFuture(new RequestDeniedException(verdict));
      }
      if (finished) {
        auth.closeSession(verdict.lease());
        return Future.failedFuture("session ended");
      }
      lease = verdict.lease();
      return Future.succeededFuture();
    });
  }

  private void startRelay(NetSocket upstream) {
    SocketAddress local = upstream.localAddress();
    relay(upstream, IpLiterals.parse(local.hostAddress()), local.port());
  }

  /**
   * Sends the success reply carrying {@code bndAddr}:{@code bndPort}, hands the client's pipelined bytes to
   * {@code peer}, and relays until both sides are done. {@code peer} must be paused.
   */
  void relay(NetSocket peer, InetAddress bndAddr, int bndPort) {
    this.upstream = peer;
    DirectWrites.apply(peer);
    ZeroCopy.hold(peer);
    if (!HalfClose.enable(peer)) {
      fail(new java.net.ConnectException("the connection closed before the relay started"));
      return;
    }
    reply = ReplyCode.SUCCEEDED;
    Future<Void> replied = socket.write(Socks5Encoder.reply(ReplyCode.SUCCEEDED, bndAddr, bndPort));
    Buffer leftover = decoder.takeLeftover();
    decoder = null;
    endHandshake();
    phase = "relay";
    relay = new Relay(socket, peer, this);
    relay.sendAhead(replied, leftover);
    relay.start();
  }

  /** The handshake is over (relay or association running): the pending-handshake count drops. */
  void endHandshake() {
    if (inHandshake) {
      inHandshake = false;
      stats.pendingHandshakes.decrementAndGet();
    }
  }

  @Override
  public void onRelayEnd(String reason) {
    finish(reason);
  }

  /**
   * The end of a command's setup chain (BIND, UDP ASSOCIATE): when {@code setup} failed, {@code release} what it
   * took and reply with the failure; when the session ended meanwhile, only release; otherwise go on with
   * {@code ready}.
   */
  <T> void afterSetup(Future<T> setup, Runnable release, Consumer<T> ready) {
    setup.onComplete(ar -> {
      if (ar.failed()) {
        release.run();
        fail(ar.cause());
      } else if (finished) {
        release.run();
      } else {
        ready.accept(ar.result());
      }
    });
  }

  /** Replies with the code {@link ReplyCodes#of} picks for {@code cause}, then closes. */
  void fail(Throwable cause) {
    if (finished) {
      return;
    }
    reply = ReplyCodes.of(cause);
    socket.write(Socks5Encoder.reply(reply));
    String why = cause instanceof RequestDeniedException || cause instanceof Socks5ProtocolException ? cause.getMessage()
        : phase + " failed: " + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage());
    if (cause instanceof AuthUnavailableException) {
      LOG.warning("session=" + id + " auth verticle unavailable: " + cause.getMessage());
    }
    closeAfterWrite(why);
  }

  private void closeAfterWrite(String reason) {
    if (finished) {
      return;
    }
    socket.write(Buffer.buffer()).onComplete(ar -> finish(reason));
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
  void finish(String reason) {
    if (finished) {
      return;
    }
    finished = true;
    cancelHandshakeTimer();
    cancelProxyHeaderTimer();
    endHandshake();
    stats.openSessions.decrementAndGet();
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
    auth.closeSession(lease);
    verticle.forget(this);
    long ms = (System.nanoTime() - startNanos) / 1_000_000;
    if (LOG.isLoggable(Level.INFO)) {
      LOG.info("session=" + id + " client=" + IpLiterals.hostPort(clientIp, clientPort)
          + (via == null ? "" : " via=" + via) + " user=" + LogText.safe(user)
          + " cmd=" + (command == null ? "-" : command) + " target=" + LogText.safe(target)
          + " reply=" + (reply == null ? "-" : reply.word()) + " up=" + (relay == null ? 0 : relay.bytesUp())
          + " down=" + (relay == null ? 0 : relay.bytesDown()) + " duration=" + ms + "ms"
          + (summaryExtra == null ? "" : " " + summaryExtra.get()) + " close=\"" + reason + "\"");
    }
  }

  private void cancelProxyHeaderTimer() {
    if (proxyHeaderTimer >= 0) {
      vertx.cancelTimer(proxyHeaderTimer);
      proxyHeaderTimer = -1;
    }
  }

  private void cancelHandshakeTimer() {
    if (handshakeTimer >= 0) {
      vertx.cancelTimer(handshakeTimer);
      handshakeTimer = -1;
    }
  }
}
