package dev.vxsocks.proxy;

import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.command.PooledResolver;
import dev.vxsocks.proxy.command.PortAllocator;
import dev.vxsocks.proxy.command.Resolver;
import dev.vxsocks.proxy.gssapi.GssapiAcceptor;
import dev.vxsocks.proxy.transport.DirectWrites;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * Deploys the connection verticle, one instance per event loop, all sharing one listening port.
 */
public final class ProxyServer {

  private static final Logger LOG = Logger.getLogger(AcceptGate.class.getName());

  /**
   * Vert.x shares a server between instances when they listen on the same host and port; port 0 is never shared,
   * but a negative port is "a random port shared by everyone who asks for this negative number". Each deployment
   * that asked for port 0 gets its own negative number, so two proxies in one Vert.x never share a socket.
   */
  private static final AtomicInteger SHARED_RANDOM_PORTS = new AtomicInteger();

  private final int port;
  private final ProxyStats stats;
  private final List<String> deploymentIds;
  private final List<Socks5ProxyVerticle> verticles;
  private final Resolver resolver;

  private ProxyServer(int port, ProxyStats stats, List<String> deploymentIds, List<Socks5ProxyVerticle> verticles,
                      Resolver resolver) {
    this.resolver = resolver;
    this.port = port;
    this.stats = stats;
    this.deploymentIds = deploymentIds;
    this.verticles = verticles;
  }

  /** Every instance takes {@code next} for the connections it accepts from now on (see Socks5ProxyVerticle#apply). */
  public void apply(ProxyConfig next) {
    verticles.forEach(v -> v.apply(next));
  }

  public static Future<ProxyServer> deploy(Vertx vertx, ProxyConfig config, int instances) {
    return deploy(vertx, config, instances, new PooledResolver(vertx));
  }

  /** As {@link #deploy(Vertx, ProxyConfig, int)}, with names resolved by {@code resolver} (closed on {@link #stop}). */
  public static Future<ProxyServer> deploy(Vertx vertx, ProxyConfig config, int instances, Resolver resolver) {
    return deploy(vertx, config, instances, resolver, ProxyMetrics.none());
  }

  /** As {@link #deploy(Vertx, ProxyConfig, int, Resolver)}, recording into {@code metrics}. */
  public static Future<ProxyServer> deploy(Vertx vertx, ProxyConfig config, int instances, Resolver resolver,
                                           ProxyMetrics metrics) {
    ProxyConfig effective = config;
    if (config.listen().port() == 0) {
      effective = config.withListenPort(-SHARED_RANDOM_PORTS.incrementAndGet());
    }
    ProxyConfig deployed = effective;
    if (config.auth().gssapi() != null) {
      // A keytab that cannot serve stops start-up with one line, not the first Kerberos client.
      GssapiAcceptor.check(config.auth().gssapi());
    }
    // Loads the direct write path now, so a Vert.x without it is reported at start-up, not at the first session.
    DirectWrites.available();
    ProxyStats stats = new ProxyStats();
    AcceptGate gate = new AcceptGate(stats);
    gate.metrics(metrics);
    PortAllocator bindPorts = new PortAllocator();
    PortAllocator udpPorts = new PortAllocator();
    List<Socks5ProxyVerticle> started = new ArrayList<>();
    return vertx.deployVerticle(() -> {
      Socks5ProxyVerticle v = new Socks5ProxyVerticle(deployed, stats, gate, bindPorts, udpPorts, resolver, metrics);
      synchronized (started) {
        started.add(v);
      }
      return v;
    }, new DeploymentOptions().setInstances(Math.max(1, instances)))
        .map(id -> {
          // Once listening: a node that cannot listen says that in one line, and nothing else.
          LOG.info(gate.describe(deployed.limits()));
          return new ProxyServer(started.get(0).actualPort(), stats, List.of(id), List.copyOf(started), resolver);
        });
  }

  /** The port the proxy listens on. */
  public int port() {
    return port;
  }

  public ProxyStats stats() {
    return stats;
  }

  /**
   * The first half of a drain: the listening socket closes, open sessions go on. {@code closeAfter} bounds how long
   * Vert.x lets them run; {@link #closeSessions} ends them earlier, each with its summary line.
   */
  public Future<Void> stopAccepting(Duration closeAfter) {
    return Future.all(verticles.stream().map(v -> v.stopAccepting(closeAfter)).toList()).mapEmpty();
  }

  /** Ends every open session now, with {@code reason} as its close reason. */
  public Future<Void> closeSessions(String reason) {
    return Future.all(verticles.stream().map(v -> v.closeSessions(reason)).toList()).mapEmpty();
  }

  /** Undeploys the connection verticles: the port closes and every session ends. */
  public Future<Void> stop(Vertx vertx) {
    return Future.all(deploymentIds.stream().map(vertx::undeploy).toList()).<Void>mapEmpty()
        .andThen(ar -> resolver.close());
  }
}
