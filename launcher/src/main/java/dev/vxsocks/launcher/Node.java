package dev.vxsocks.launcher;

import com.hazelcast.core.HazelcastInstance;
import dev.vxsocks.auth.AuthVerticle;
import dev.vxsocks.auth.InMemorySessionLimiter;
import dev.vxsocks.auth.InMemoryUserStore;
import dev.vxsocks.auth.cluster.HazelcastLoginThrottleStore;
import dev.vxsocks.auth.cluster.HazelcastSessionLimiter;
import dev.vxsocks.auth.cluster.HazelcastUserStore;
import dev.vxsocks.auth.cluster.SharedConfig;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.ProxyServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/** One running proxy node: the auth verticle and the connection verticles, deployed on a Vert.x instance. */
public final class Node {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.node");
  private static final String NODE_MAP = "vxsocks.node";

  private final Vertx vertx;
  private final ProxyServer server;
  private final ProxyConfig config;
  private final AuthVerticle auth;
  /** The single node's user store; null in a cluster, whose users change through the cluster-wide map. */
  private final InMemoryUserStore localUsers;
  private volatile String version;

  private Node(Vertx vertx, ProxyServer server, ProxyConfig config, String version, AuthVerticle auth,
               InMemoryUserStore localUsers) {
    this.vertx = vertx;
    this.server = server;
    this.config = config;
    this.version = version;
    this.auth = auth;
    this.localUsers = localUsers;
  }

  /** Deploys the auth verticle first (the proxy asks it from its first connection on), then the proxy. */
  public static Future<Node> start(Vertx vertx, ProxyConfig config, int proxyInstances) {
    return start(vertx, config, null, proxyInstances, null);
  }

  /**
   * Starts a node. With {@code hz} null it is a single node (state in memory). With a Hazelcast member, users, session
   * limits, failed logins (the login throttle) and the rolled-out configuration are cluster-wide: a configuration
   * rolled out earlier with {@code config apply} replaces the file's shared parts (users, rules, limits, timeouts,
   * auth) from the start, and later rollouts are applied to the auth verticle as they arrive. {@code fileVersion} is
   * the version of the file's configuration, logged and reported when nothing was rolled out.
   */
  public static Future<Node> start(Vertx vertx, ProxyConfig config, String fileVersion, int proxyInstances,
                                   HazelcastInstance hz) {
    // The auth verticle's addresses are per Vert.x instance: a second node on the same one would answer for the first.
    if (vertx.sharedData().getLocalMap(NODE_MAP).putIfAbsent("node", Boolean.TRUE) != null) {
      return Future.failedFuture(new IllegalStateException("a vxsocks node is already running on this Vert.x instance"));
    }
    if (hz == null) {
      InMemoryUserStore users = new InMemoryUserStore(config.users());
      AuthVerticle auth = new AuthVerticle(config, users, new InMemorySessionLimiter());
      return vertx.deployVerticle(auth)
          .compose(id -> ProxyServer.deploy(vertx, config, proxyInstances))
          .map(server -> new Node(vertx, server, config, fileVersion, auth, users));
    }
    record Parts(HazelcastUserStore users, HazelcastSessionLimiter limiter, HazelcastLoginThrottleStore failedLogins,
                 SharedConfig shared, SharedConfig.Versioned current) {
    }
    // Set once the proxy is deployed; a rollout arriving before that reaches it through the effective config.
    AtomicReference<ProxyServer> deployed = new AtomicReference<>();
    return vertx.executeBlocking(() -> {
      HazelcastUserStore users = new HazelcastUserStore(hz).start(config.users());
      HazelcastSessionLimiter limiter = new HazelcastSessionLimiter(vertx, hz, config.cluster()).start();
      HazelcastLoginThrottleStore failedLogins = new HazelcastLoginThrottleStore(vertx, hz).start();
      SharedConfig shared = new SharedConfig(hz);
      SharedConfig.Versioned current = null;
      try {
        current = shared.current();
      } catch (RuntimeException unreadable) {
        LOG.warning("config: the rolled-out configuration is unusable, running the file's: " + unreadable.getMessage());
      }
      return new Parts(users, limiter, failedLogins, shared, current);
    }, false).compose(parts -> {
      ProxyConfig effective = parts.current() == null ? config : config.withShared(parts.current().config());
      String version = parts.current() == null ? fileVersion : parts.current().version();
      AuthVerticle auth = new AuthVerticle(effective, parts.users(), parts.limiter(), parts.failedLogins());
      return vertx.deployVerticle(auth)
          .compose(id -> vertx.executeBlocking(() -> {
            parts.shared().watch((next, err) -> {
              if (err != null) {
                LOG.warning("config: rolled-out configuration refused, keeping the current one: " + err.getMessage());
                return;
              }
              ProxyConfig applied = config.withShared(next.config());
              auth.apply(applied);
              ProxyServer proxy = deployed.get();
              if (proxy != null) {
                proxy.apply(applied);
              }
              LOG.info("config: now running version " + next.version()
                  + " (users, rules, limits, timeouts, auth methods and the login throttle are live; listen, bind, udp"
                  + " and cluster need a restart)");
              vertx.executeBlocking(() -> {
                parts.shared().reportRunning(next.version());
                return null;
              }, false);
            });
            parts.shared().reportRunning(version);
            return null;
          }, false))
          .compose(v -> ProxyServer.deploy(vertx, effective, proxyInstances))
          .onSuccess(deployed::set)
          .map(server -> new Node(vertx, server, effective, version, auth, null));
    });
  }

  /**
   * A single node's configuration file changed: users, rules, limits, timeouts and auth methods take effect for new
   * sessions (a revoked user's sessions are closed); listen, bind and udp wait for a restart. Not for cluster nodes
   * (use config apply).
   */
  public void reload(ProxyConfig next, String nextVersion) {
    if (localUsers == null) {
      throw new IllegalStateException("a cluster node takes configuration changes from config apply");
    }
    localUsers.replaceAll(next.users());
    ProxyConfig applied = config.withShared(next);
    auth.apply(applied);
    server.apply(applied);
    version = nextVersion;
  }

  /** Stops accepting, ends every session (which gives its slots back to the auth verticle), then closes Vert.x. */
  public Future<Void> stop() {
    return server.stop(vertx).eventually(() -> vertx.close());
  }

  public int port() {
    return server.port();
  }

  /** True for a cluster member (its stop leaves the cluster). */
  public boolean clustered() {
    return localUsers == null;
  }

  public ProxyServer server() {
    return server;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The configuration the node started with (after a rolled-out one was applied). */
  public ProxyConfig config() {
    return config;
  }

  /** The version of the configuration the node started with. */
  public String version() {
    return version;
  }
}
