package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.AuthAddresses;
import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.command.NodeServices;
import dev.vxsocks.proxy.command.PortAllocator;
import dev.vxsocks.proxy.command.Resolver;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The connection verticle: listens for SOCKS5 clients and runs one {@link Socks5Session} per connection. Deploy one
 * instance per event loop; they share the listening port (see {@link ProxyServer}). Sessions ask the node-local auth
 * verticle over the event bus, so this module knows nothing of users, rules or the cluster.
 */
public final class Socks5ProxyVerticle extends VerticleBase {

  private static final long SWEEP_MS = 1000;
  private static final long CLIENT_VERDICT_TTL_NANOS = 1_000_000_000L;
  private static final int MAX_CLIENT_VERDICTS = 65_536;

  private record CachedVerdict(Verdict verdict, long expiresAtNanos) {
  }

  /** Replaced whole by {@link #apply}; each session keeps the one it started with. */
  private volatile ProxyConfig config;
  private final ProxyStats stats;
  private final AcceptGate gate;
  private final PortAllocator bindPorts;
  private final PortAllocator udpPorts;
  private final Resolver resolver;
  private final ProxyMetrics metrics;
  private final Set<Socks5Session> sessions = new HashSet<>();
  private final Map<String, CachedVerdict> clientVerdicts = new HashMap<>();
  private AuthClient auth;
  /** Kept in a field: an unreachable NetClient is closed by a Cleaner, killing its connections. */
  private NetClient connector;
  private NodeServices node;
  private NetServer server;
  private long sweepTimer = -1;
  /** The listening address, when it is a literal (it never changes: {@link #apply} keeps {@code listen}). */
  private InetAddress listenAddress;

  /**
   * {@code bindPorts}, {@code udpPorts} and {@code resolver} are the node's: every instance hands out ports from the
   * same ones and resolves on the same pool.
   */
  Socks5ProxyVerticle(ProxyConfig config, ProxyStats stats, AcceptGate gate, PortAllocator bindPorts,
                      PortAllocator udpPorts, Resolver resolver, ProxyMetrics metrics) {
    this.metrics = metrics;
    this.config = config;
    this.stats = stats;
    this.gate = gate;
    this.bindPorts = bindPorts;
    this.udpPorts = udpPorts;
    this.resolver = resolver;
  }

  @Override
  public Future<?> start() {
    listenAddress = IpLiterals.parse(config.listen().host());
    auth = new AuthClient(vertx, config.timeouts().auth(), metrics::authRoundTrip);
    connector = vertx.createNetClient(new NetClientOptions()
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.timeouts().connect().toMillis()))
        .setTcpNoDelay(true));
    node = new NodeServices(vertx, auth, connector, resolver, bindPorts, udpPorts, metrics);
    server = vertx.createNetServer(new NetServerOptions()
        .setHost(config.listen().host())
        .setPort(config.listen().port())
        .setTcpNoDelay(true)
        .setReuseAddress(true)
        .setAcceptBacklog(4096));
    server.connectHandler(this::accept);
    // A user disabled, removed or given a new password anywhere in the cluster: end their sessions here.
    vertx.eventBus().<String>localConsumer(AuthAddresses.USER_REVOKED, m -> {
      for (Socks5Session s : new ArrayList<>(sessions)) {
        if (m.body() != null && m.body().equals(s.user())) {
          s.end("user revoked");
        }
      }
    });
    sweepTimer = vertx.setPeriodic(SWEEP_MS, t -> {
      long now = System.nanoTime();
      for (Socks5Session s : new ArrayList<>(sessions)) {
        s.checkTimeouts(now);
      }
      gate.flushLog(now);
    });
    return server.listen();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimer);
    for (Socks5Session s : new ArrayList<>(sessions)) {
      s.end("proxy stopping");
    }
    // Both close at once (shutdown with no grace period); neither waits on the other's outcome.
    return Future.join(server.close(), connector.close());
  }

  /**
   * Takes a new configuration for the sessions accepted from now on: auth methods, timeouts, limits. The listening
   * address, BIND and UDP settings stay those the verticle was deployed with (they belong to the node).
   */
  public void apply(ProxyConfig next) {
    config = config.withShared(next);
  }

  /** The port this instance listens on (the configured one, or the one the OS chose for port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /**
   * A new connection: the node's guard ({@link AcceptGate}) takes it or closes it at once, before a byte is read. A
   * peer in {@code listen.proxy-protocol-from} starts with a PROXY header, and no source share applies to it here.
   */
  private void accept(NetSocket socket) {
    String id = stats.nextId();
    stats.totalSessions.incrementAndGet();
    ProxyConfig c = config;
    SocketAddress remote = socket.remoteAddress();
    InetAddress peer = remote == null ? null : IpLiterals.parse(remote.hostAddress());
    boolean trusted = peer != null && isTrustedBalancer(c, peer);
    AcceptGate.Ticket ticket = gate.admit(peer, trusted, c.limits());
    if (ticket == null) {
      socket.close();
      return;
    }
    metrics.opened();
    Socks5Session session = new Socks5Session(this, node, socket, id, ticket);
    sessions.add(session);
    session.start(trusted);
  }

  /** True when {@code address} is in {@code listen.proxy-protocol-from}: its connections start with a PROXY header. */
  static boolean isTrustedBalancer(ProxyConfig c, InetAddress address) {
    return !c.listen().proxyProtocolFrom().isEmpty() && c.listen().trustsProxyHeaderFrom(address);
  }

  /**
   * Stops accepting (the listening socket closes once every instance has stopped) and leaves the open sessions
   * running; Vert.x would close those still open after {@code closeAfter}, so the caller ends them first with
   * {@link #closeSessions}.
   */
  Future<Void> stopAccepting(Duration closeAfter) {
    Promise<Void> stopped = Promise.promise();
    context.runOnContext(v -> {
      // Completes when every connection has closed: not a thing to wait for here.
      server.shutdown(closeAfter.toMillis(), TimeUnit.MILLISECONDS);
      stopped.complete();
    });
    return stopped.future();
  }

  /** Ends every session of this instance with {@code reason} in its summary line. */
  Future<Void> closeSessions(String reason) {
    Promise<Void> closed = Promise.promise();
    context.runOnContext(v -> {
      for (Socks5Session s : new ArrayList<>(sessions)) {
        s.end(reason);
      }
      closed.complete();
    });
    return closed.future();
  }

  /**
   * Client rules for {@code clientIp}, remembered for {@link #CLIENT_VERDICT_TTL_NANOS}: a client that opens many
   * connections (the usual case behind a balancer) costs one event-bus round trip per second instead of one per
   * connection. A rule change is therefore seen within a second. Failures are not remembered.
   */
  Future<Verdict> checkClient(String clientIp) {
    long now = System.nanoTime();
    CachedVerdict cached = clientVerdicts.get(clientIp);
    if (cached != null && now - cached.expiresAtNanos() < 0) {
      return Future.succeededFuture(cached.verdict());
    }
    return auth.checkClient(clientIp).onSuccess(v -> {
      if (clientVerdicts.size() >= MAX_CLIENT_VERDICTS) {
        clientVerdicts.clear();
      }
      clientVerdicts.put(clientIp, new CachedVerdict(v, System.nanoTime() + CLIENT_VERDICT_TTL_NANOS));
    });
  }

  /**
   * True when {@code address:port} is this proxy's own listening socket: a request to ourselves can only loop, so it
   * is refused whatever the rules say.
   */
  boolean isOwnListener(InetAddress address, int port) {
    if (port != server.actualPort()) {
      return false;
    }
    InetAddress listen = listenAddress;
    return address.isLoopbackAddress() || address.isAnyLocalAddress() || address.equals(listen)
        || (listen != null && listen.isAnyLocalAddress() && isLocal(address));
  }

  private static boolean isLocal(InetAddress address) {
    try {
      return NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      return false;
    }
  }

  void forget(Socks5Session session) {
    sessions.remove(session);
  }

  ProxyConfig proxyConfig() {
    return config;
  }

  ProxyStats stats() {
    return stats;
  }

}
