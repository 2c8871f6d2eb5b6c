package dev.vxsocks.launcher;

import dev.vxsocks.auth.MemoSecret;
import dev.vxsocks.config.AuthMethodName;
import dev.vxsocks.config.ConfigException;
import dev.vxsocks.config.ConfigLoader;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import dev.vxsocks.proxy.transport.SocketTransport;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.BindException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/** {@code run} (the default command): starts a node and serves until SIGTERM. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {"Start a node: the SOCKS5 proxy (and the admin port), alone or as a member of the cluster its "
        + "configuration names. The default command: 'java -jar vxsocks.jar --config FILE' runs too.",
        "SIGTERM drains it: readiness 503, drain.grace, then open sessions get up to drain.timeout."})
final class RunCommand implements Callable<Integer> {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.node");

  @Option(names = "--config", paramLabel = "FILE", description = Main.CONFIG_HELP)
  String config;

  @Option(names = "--log-level", paramLabel = "LEVEL",
      description = "INFO (default), FINE for a line per handshake phase, WARNING for errors only")
  String level;

  @Option(names = "--watch", description = "Single node: re-read FILE every second and apply users, rules and limits")
  boolean watch;

  private final Main.Io io;
  /** The configuration being started, for error messages. */
  private volatile ProxyConfig lastConfig;
  /** The admin address while it is being bound, for error messages. */
  private volatile String adminListen;

  RunCommand(Main.Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    Path configFile = Main.configPath(config);
    if (watch && configFile == null) {
      throw new Main.UsageException("--watch needs a configuration file (--config FILE)");
    }
    String logLevel = level == null ? "INFO" : level.toUpperCase(Locale.ROOT);
    try {
      java.util.logging.Level.parse(logLevel);
    } catch (IllegalArgumentException e) {
      throw new Main.UsageException("--log-level must be one of SEVERE, WARNING, INFO, FINE, FINER, FINEST, ALL, OFF; got '" + level + "'");
    }
    LogSetup.configure(logLevel);
    String heap = HeapReturn.apply(); // logged once listening: a start-up failure stays one line
    // One event loop per core, not Vert.x's default of two: with one connection verticle per loop, the extra loops
    // only add thread switches (bench/ab.sh on 2 cores: ~10% more sessions/s, ~15% less CPU per session).
    int instances = Runtime.getRuntime().availableProcessors();
    VertxOptions options = new VertxOptions().setEventLoopPoolSize(instances);
    // Epoll when available, NIO otherwise; given explicitly, Vert.x uses it (and ignores setPreferNativeTransport).
    Transport transport = SocketTransport.preferred();
    Vertx vertx = Vertx.builder().with(options).withTransport(transport).build();
    try {
      JsonObject file = ConfigLoader.loadJson(vertx, configFile).await(30, TimeUnit.SECONDS);
      String version = ConfigLoader.version(file);
      ProxyConfig cfg = ConfigLoader.validateWithOverrides(file.copy());
      lastConfig = cfg;
      LogSetup.json(cfg.log().json());
      if (cfg.auth().methods().contains(AuthMethodName.USERNAME_PASSWORD) && cfg.users().isEmpty() && !cfg.cluster().enabled()) {
        LOG.warning("username-password auth is on but no user is configured: every login will fail");
      }
      if (watch && cfg.cluster().enabled()) {
        throw new ConfigException("cluster.enabled", "--watch is for a single node; in a cluster roll changes out with"
            + " 'config apply FILE'");
      }
      HazelcastClusterManager manager = null;
      MemoSecret memoSecret = null;
      if (cfg.cluster().enabled()) {
        memoSecret = Node.memoSecret(cfg.cluster()); // a bad secret file stops start-up before the node joins
        vertx.close().await(30, TimeUnit.SECONDS);
        manager = HazelcastSetup.clusterManager(cfg.cluster());
        vertx = HazelcastSetup.clusteredVertx(options, cfg.cluster(), manager, transport).await(120, TimeUnit.SECONDS);
      }
      var hz = manager == null ? null : manager.getHazelcastInstance();
      Readiness readiness = new Readiness(hz, cfg.cluster());
      StatusReport status = new StatusReport(cfg, readiness, hz);
      // Metrics are read on the admin port only: without it nothing could read them, so nothing is recorded.
      NodeMetrics metrics = cfg.admin().port() == 0 ? null : new NodeMetrics();
      if (metrics != null && hz != null) {
        metrics.cluster(hz);
      }
      // The admin port is bound before the proxy's: a balancer sees "starting" (503), never a refused health check
      // on a node that is about to serve, and a port clash stops start-up before the node joins a cluster.
      int adminPort = 0;
      if (cfg.admin().port() != 0) {
        adminListen = IpLiterals.hostPort(cfg.admin().host(), cfg.admin().port());
        adminPort = AdminServer.start(vertx, cfg.admin().host(), cfg.admin().port(), readiness, metrics, status)
            .await(30, TimeUnit.SECONDS).actualPort();
        adminListen = null;
      }
      Node node = Node.start(vertx, cfg, version, instances, hz, memoSecret, metrics).await(60, TimeUnit.SECONDS);
      if (watch) {
        FileWatch.start(vertx, configFile, node, Main.FILE_SCAN_PERIOD).await(30, TimeUnit.SECONDS);
      }
      status.started(node);
      readiness.listening();
      status.publish(vertx);
      Drain drain = new Drain(node, readiness, status, cfg.drain());
      boolean signals = StopSignals.install(drain);
      drain.done().whenComplete((v, failed) -> {
        LogSetup.close();
        Runtime.getRuntime().halt(failed == null ? 0 : 1);
      });
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        // Any other way out of the JVM (SIGHUP, or signals we could not take over): no grace, sessions closed now.
        drain.requestNow("JVM shutdown");
        try {
          drain.done().get(20, TimeUnit.SECONDS);
        } catch (Exception ignored) {
          // exiting anyway
        }
        LogSetup.close();
      }, "vxsocks-shutdown"));
      ProxyConfig c = node.config();
      LOG.info("vxsocks listening on " + IpLiterals.hostPort(cfg.listen().host(), node.port()) + " (config " + ConfigLoader.describe(configFile)
          + ", version " + node.version()
          + (cfg.cluster().enabled() ? ", cluster " + cfg.cluster().name() + " member " + IpLiterals.hostPort(cfg.cluster().host(), cfg.cluster().port())
              + " of " + hz.getCluster().getMembers().size() : "")
          + ", auth " + c.auth().methods().stream().map(AuthMethodName::configName).collect(Collectors.joining("/")) + ", " + c.users().size() + " users, "
          + c.rules().client().size() + " client rules, " + c.rules().request().size() + " request rules, "
          + instances + " event loops, transport " + transport.name()
          + (cfg.listen().proxyProtocolFrom().isEmpty() ? "" : ", PROXY protocol from " + cfg.listen().proxyProtocolFrom())
          + (adminPort == 0 ? ", admin off" : ", admin on " + IpLiterals.hostPort(cfg.admin().host(), adminPort))
          + (signals ? "" : ", no drain on SIGTERM (signals unavailable)")
          + (watch ? ", watching the file" : "") + ")");
      LOG.info(heap);
      return awaitForever();
    } catch (ConfigException e) {
      io.err().println("vxsocks: config error: " + e.getMessage());
      vertx.close();
      return 2;
    } catch (Exception e) {
      Throwable cause = Main.rootCause(e);
      if (cause instanceof BindException || isNativeBindFailure(cause)) {
        io.err().println("vxsocks: cannot listen on " + (adminListen != null ? adminListen + " (admin)"
            : IpLiterals.hostPort(listenHost(), listenPort())) + ": "
            + (cause.getMessage().contains("Address already in use") ? "address already in use" : cause.getMessage()));
      } else {
        io.err().println("vxsocks: failed to start: " + cause);
      }
      vertx.close();
      return 1;
    }
  }

  /** epoll reports bind(2) failures as Netty's NativeIoException, not java.net.BindException. */
  private static boolean isNativeBindFailure(Throwable t) {
    return t.getClass().getName().startsWith("io.netty.channel.unix.Errors") && String.valueOf(t.getMessage()).startsWith("bind(");
  }

  private String listenHost() {
    return lastConfig == null ? "?" : lastConfig.listen().host();
  }

  private int listenPort() {
    return lastConfig == null ? 0 : lastConfig.listen().port();
  }

  private static int awaitForever() {
    try {
      Thread.currentThread().join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }
}
