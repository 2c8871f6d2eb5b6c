package dev.vxsocks.launcher;

import com.hazelcast.core.HazelcastInstance;
import dev.vxsocks.auth.AuthVerticle;
import dev.vxsocks.auth.InMemorySessionLimiter;
import dev.vxsocks.auth.InMemoryUserStore;
import dev.vxsocks.auth.SessionRates;
import dev.vxsocks.auth.MemoSecret;
import dev.vxsocks.auth.VerificationMemo;
import dev.vxsocks.auth.cluster.HazelcastLoginThrottleStore;
import dev.vxsocks.auth.cluster.HazelcastSessionLimiter;
import dev.vxsocks.auth.cluster.HazelcastSessionRateLimiter;
import dev.vxsocks.auth.cluster.HazelcastUserStore;
import dev.vxsocks.auth.cluster.HazelcastVerificationMemo;
import dev.vxsocks.auth.cluster.SharedConfig;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.ProxyMetrics;
import dev.vxsocks.proxy.ProxyServer;
import dev.vxsocks.proxy.command.PooledResolver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
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
  /**
   * The version of the configuration running now: the file's, a reload's, or the last one rolled out to the cluster
   * (set from the rollout listener, which may fire before this object exists).
   */
  private final AtomicReference<String> running;
  /** Told the running configuration's version whenever it changes (the config-info metric, {@link #running}). */
  private final Consumer<String> versions;

  private Node(Vertx vertx, ProxyServer server, ProxyConfig config, AtomicReference<String> running, AuthVerticle auth,
               InMemoryUserStore localUsers, Consumer<String> versions) {
    this.versions = versions;
    this.vertx = vertx;
    this.server = server;
    this.config = config;
    this.running = running;
    this.auth = auth;
    this.localUsers = localUsers;
  }

  /** Deploys the auth verticle first (the proxy asks it from its first connection on), then the proxy. */
  public static Future<Node> start(Vertx vertx, ProxyConfig config, int proxyInstances) {
    return start(vertx, config, null, proxyInstances, null, null, null);
  }

  /**
   * Starts a node. With {@code hz} null it is a single node (state in memory). With a Hazelcast member, users, session
   * limits, failed logins (the login throttle) and the rolled-out configuration are cluster-wide: a configuration rolled out earlier with
   * {@code config apply} replaces the file's shared parts (rules, limits, timeouts, auth; users live in the cluster's map) from the start, and
   * later rollouts are applied to the auth verticle as they arrive. {@code fileVersion} is the version of the file's
   * configuration, logged and reported when nothing was rolled out.
   */
  public static Future<Node> start(Vertx vertx, ProxyConfig config, String fileVersion, int proxyInstances,
                                   HazelcastInstance hz) {
    return start(vertx, config, fileVersion, proxyInstances, hz, null, null);
  }

  /** As above, exporting metrics into {@code metrics}. */
  public static Future<Node> start(Vertx vertx, ProxyConfig config, String fileVersion, int proxyInstances,
                                   HazelcastInstance hz, NodeMetrics metrics) {
    return start(vertx, config, fileVersion, proxyInstances, hz, null, metrics);
  }

  /**
   * As above; a cluster node with a {@code memoSecret} ({@link #memoSecret}) shares the passwords it verifies with
   * the other nodes through the verification memo for {@code cluster.memo-ttl}.
   */
  public static Future<Node> start(Vertx vertx, ProxyConfig config, String fileVersion, int proxyInstances,
                                   HazelcastInstance hz, MemoSecret memoSecret) {
    return start(vertx, config, fileVersion, proxyInstances, hz, memoSecret, null);
  }

  /** The full form: {@code memoSecret} and {@code metrics} may be null. */
  public static Future<Node> start(Vertx vertx, ProxyConfig config, String fileVersion, int proxyInstances,
                                   HazelcastInstance hz, MemoSecret memoSecret, NodeMetrics metrics) {
    ProxyMetrics proxyMetrics = metrics == null ? ProxyMetrics.none() : metrics.proxy();
    AtomicReference<String> running = new AtomicReference<>();
    Consumer<String> versions = v -> {
      running.set(v);
      if (metrics != null) {
        metrics.configVersion(v);
      }
    };
    versions.accept(fileVersion);
    // The auth verticle's addresses are per Vert.x instance: a second node on the same one would answer for the first.
    if (vertx.sharedData().getLocalMap(NODE_MAP).putIfAbsent("node", Boolean.TRUE) != null) {
      return Future.failedFuture(new IllegalStateException("a vxsocks node is already running on this Vert.x instance"));
    }
    if (hz == null) {
      InMemoryUserStore users = new InMemoryUserStore(config.users());
      AuthVerticle auth = new AuthVerticle(config, users, new InMemorySessionLimiter());
      return vertx.deployVerticle(auth)
          .compose(id -> ProxyServer.deploy(vertx, config, proxyInstances, new PooledResolver(vertx), proxyMetrics))
          .map(server -> new Node(vertx, server, config, running, auth, users, versions));
    }
    record Parts(HazelcastUserStore users, HazelcastSessionLimiter limiter, HazelcastLoginThrottleStore failedLogins,
                 SharedConfig shared, SharedConfig.Versioned current, VerificationMemo memo) {
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
      // Getting the replicated map may wait for the cluster: here, off the event loop.
      VerificationMemo memo = memoSecret == null ? VerificationMemo.NONE
          : new HazelcastVerificationMemo(hz, memoSecret, config.cluster().memoTtl());
      return new Parts(users, limiter, failedLogins, shared, current, memo);
    }, false).compose(parts -> {
      ProxyConfig effective = parts.current() == null ? config : config.withShared(parts.current().config());
      String version = parts.current() == null ? fileVersion : parts.current().version();
      versions.accept(version);
      AuthVerticle auth = new AuthVerticle(effective, parts.users(), parts.limiter(),
          new HazelcastSessionRateLimiter(vertx, hz, config.cluster()), parts.memo(), parts.failedLogins());
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
                  + " (rules, limits, timeouts, auth methods and the login throttle are live; users change with user or config apply --users; listen, bind, udp and cluster need a restart)");
              vertx.executeBlocking(() -> {
                parts.shared().reportRunning(next.version());
                versions.accept(next.version());
                return null;
              }, false);
            });
            parts.shared().reportRunning(version);
            return null;
          }, false))
          .compose(v -> ProxyServer.deploy(vertx, effective, proxyInstances, new PooledResolver(vertx), proxyMetrics))
          .onSuccess(deployed::set)
          .map(server -> new Node(vertx, server, effective, running, auth, null, versions));
    });
  }

  /**
   * The secret of a cluster node's verification memo, read from {@code cluster.memo-secret-file} (a missing, unreadable
   * or short file is a {@link dev.vxsocks.config.ConfigException}), or null when the memo is off: then a WARNING says
   * what that costs after a failover. Logs the secret's fingerprint, which must be the same on every node.
   */
  public static MemoSecret memoSecret(ProxyConfig.Cluster c) {
    if (c.memoSecretFile() == null) {
      LOG.warning("memo: cluster.memo-secret-file is not set, so the verification memo is off: after a failover, "
          + "every user of the lost node pays the slow password hash again on the node they reach, a few logins per "
          + "second per core (README, \"Logins after a failover\")");
      return null;
    }
    if (!c.memoEnabled()) {
      LOG.info("memo: the verification memo is off (cluster.memo-ttl: 0s)");
      return null;
    }
    MemoSecret secret = MemoSecret.fromFile(Path.of(c.memoSecretFile()), "cluster.memo-secret-file");
    LOG.info("memo: verification memo on, lifetime " + c.memoTtl().toSeconds() + "s, secret fingerprint "
        + secret.fingerprint() + " (the same on every node, or nodes do not share what they verified)");
    return secret;
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
    versions.accept(nextVersion);
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

  /** The new-session rate limits, with their refusal counters. */
  public SessionRates sessionRates() {
    return auth.sessionRates();
  }

  public Vertx vertx() {
    return vertx;
  }

  /** The configuration the node started with (after a rolled-out one was applied). */
  public ProxyConfig config() {
    return config;
  }

  /** The version of the configuration the node runs now (the one it started with, until a reload or rollout). */
  public String version() {
    return running.get();
  }
}
