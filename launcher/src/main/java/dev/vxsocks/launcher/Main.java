package dev.vxsocks.launcher;

import dev.vxsocks.auth.MemoSecret;
import dev.vxsocks.config.ConfigException;
import dev.vxsocks.config.ConfigLoader;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.AuthMethodName;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import dev.vxsocks.proxy.transport.SocketTransport;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.transport.Transport;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.BufferedReader;
import java.io.Console;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The command line. {@code run} (the default) starts a node; {@code check-config} validates a configuration;
 * {@code hash-password} prints a hash for the {@code users} list. Errors are one line on standard error and a non-zero
 * exit code: 2 for a bad command line or configuration, 1 for anything else.
 *
 * <p>Longer than our other classes because the command line is parsed by hand here; it moves to picocli, one class
 * per subcommand, with the operations work (the issue that adds {@code status} and {@code probe}).
 */
public final class Main {

  static {
    // Must precede the first Logger (the field below): see ShutdownSafeLogManager.
    if (System.getProperty("java.util.logging.manager") == null) {
      System.setProperty("java.util.logging.manager", ShutdownSafeLogManager.class.getName());
    }
  }

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.node");
  /** How often {@code run --watch} re-reads the file. */
  static final java.time.Duration FILE_SCAN_PERIOD = java.time.Duration.ofSeconds(1);
  static final String USAGE = String.join("\n",
      "usage: java -jar vxsocks.jar [run] [--config FILE] [--log-level LEVEL] [--watch]",
      "       java -jar vxsocks.jar check-config [--config FILE]",
      "       java -jar vxsocks.jar hash-password [--iterations N]   (reads the password from the terminal or stdin)",
      "       java -jar vxsocks.jar user add|passwd NAME [--hash HASH] [--config FILE]   (else reads the password)",
      "       java -jar vxsocks.jar user disable|enable|remove NAME [--config FILE]",
      "       java -jar vxsocks.jar user list [--config FILE]",
      "       java -jar vxsocks.jar config apply [--users] FILE   roll FILE out to every node of the cluster it names;",
      "                                     its users only with --users (else the cluster's stand; differences listed)",
      "       java -jar vxsocks.jar config status [--config FILE]",
      "       java -jar vxsocks.jar probe --proxy HOST:PORT --target HOST:PORT [--user NAME] [--udp] [--send TEXT]",
      "                                   [--timeout MS]   one session, each phase timed; exit 0 only on success",
      "                                   (password: $VXSOCKS_PROBE_PASSWORD, else the terminal or stdin)",
      "  user and config connect for a moment, as a Hazelcast client, to the cluster.members of the configuration.",
      "",
      "  --config FILE     YAML configuration (default: $VXSOCKS_CONFIG, else the built-in loopback default)",
      "  --log-level LEVEL INFO (default), FINE for a line per handshake phase, WARNING for errors only",
      "  --watch           single node: re-read FILE every second and apply users, rules and limits",
      "  Settings can be overridden with VXSOCKS_* environment variables or -Dvxsocks.* properties (see README).");

  /** The configuration being started, for error messages. */
  private static volatile ProxyConfig lastConfig;
  /** The admin address while it is being bound, for error messages. */
  private static volatile String adminListen;

  private Main() {
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] argv, PrintStream out, PrintStream err) {
    List<String> args = new ArrayList<>(Arrays.asList(argv));
    String command = args.isEmpty() || args.get(0).startsWith("-") ? "run" : args.remove(0);
    try {
      switch (command) {
        case "run":
          return runNode(args, err);
        case "check-config":
          return checkConfig(args, out, err);
        case "hash-password":
          return hashPassword(args, out, err);
        case "user":
          return Admin.user(args, out, err);
        case "config":
          return Admin.config(args, out, err);
        case "probe":
          return Probe.run(args, out, err);
        case "help":
        case "--help":
          out.println(USAGE);
          return 0;
        default:
          throw new UsageException("unknown command '" + command + "'");
      }
    } catch (UsageException e) {
      err.println("vxsocks: " + e.getMessage());
      err.println(USAGE);
      return 2;
    }
  }

  private static int runNode(List<String> args, PrintStream err) {
    Path config = configPath(option(args, "--config"));
    String level = option(args, "--log-level");
    boolean watch = args.remove("--watch");
    noMore(args);
    if (watch && config == null) {
      throw new UsageException("--watch needs a configuration file (--config FILE)");
    }
    String logLevel = level == null ? "INFO" : level.toUpperCase(java.util.Locale.ROOT);
    try {
      java.util.logging.Level.parse(logLevel);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--log-level must be one of SEVERE, WARNING, INFO, FINE, FINER, FINEST, ALL, OFF; got '" + level + "'");
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
      JsonObject file = ConfigLoader.loadJson(vertx, config).await(30, TimeUnit.SECONDS);
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
      Readiness readiness = new Readiness(manager == null ? null : manager.getHazelcastInstance(), cfg.cluster());
      NodeMetrics metrics = new NodeMetrics();
      if (manager != null) {
        metrics.cluster(manager.getHazelcastInstance());
      }
      // The admin port is bound before the proxy's: a balancer sees "starting" (503), never a refused health check
      // on a node that is about to serve, and a port clash stops start-up before the node joins a cluster.
      int adminPort = 0;
      if (cfg.admin().port() != 0) {
        adminListen = IpLiterals.hostPort(cfg.admin().host(), cfg.admin().port());
        adminPort = AdminServer.start(vertx, cfg.admin().host(), cfg.admin().port(), readiness, metrics)
            .await(30, TimeUnit.SECONDS).actualPort();
        adminListen = null;
      }
      Node node = Node.start(vertx, cfg, version, instances,
          manager == null ? null : manager.getHazelcastInstance(), memoSecret, metrics).await(60, TimeUnit.SECONDS);
      if (watch) {
        FileWatch.start(vertx, config, node, FILE_SCAN_PERIOD).await(30, TimeUnit.SECONDS);
      }
      readiness.listening();
      Drain drain = new Drain(node, readiness, cfg.drain());
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
      LOG.info("vxsocks listening on " + IpLiterals.hostPort(cfg.listen().host(), node.port()) + " (config " + ConfigLoader.describe(config)
          + ", version " + node.version()
          + (cfg.cluster().enabled() ? ", cluster " + cfg.cluster().name() + " member " + IpLiterals.hostPort(cfg.cluster().host(), cfg.cluster().port())
              + " of " + manager.getHazelcastInstance().getCluster().getMembers().size() : "")
          + ", auth " + c.auth().methods().stream().map(AuthMethodName::configName).collect(java.util.stream.Collectors.joining("/")) + ", " + c.users().size() + " users, "
          + c.rules().client().size() + " client rules, " + c.rules().request().size() + " request rules, "
          + instances + " event loops, transport " + transport.name()
          + (cfg.listen().proxyProtocolFrom().isEmpty() ? "" : ", PROXY protocol from " + cfg.listen().proxyProtocolFrom())
          + (adminPort == 0 ? ", admin off" : ", admin on " + IpLiterals.hostPort(cfg.admin().host(), adminPort))
          + (signals ? "" : ", no drain on SIGTERM (signals unavailable)")
          + (watch ? ", watching the file" : "") + ")");
      LOG.info(heap);
      return awaitForever();
    } catch (ConfigException e) {
      err.println("vxsocks: config error: " + e.getMessage());
      vertx.close();
      return 2;
    } catch (Exception e) {
      Throwable cause = rootCause(e);
      if (cause instanceof BindException || isNativeBindFailure(cause)) {
        err.println("vxsocks: cannot listen on " + (adminListen != null ? adminListen + " (admin)"
            : IpLiterals.hostPort(listenHost(), listenPort())) + ": "
            + (cause.getMessage().contains("Address already in use") ? "address already in use" : cause.getMessage()));
      } else {
        err.println("vxsocks: failed to start: " + cause);
      }
      vertx.close();
      return 1;
    }
  }

  /** epoll reports bind(2) failures as Netty's NativeIoException, not java.net.BindException. */
  private static boolean isNativeBindFailure(Throwable t) {
    return t.getClass().getName().startsWith("io.netty.channel.unix.Errors") && String.valueOf(t.getMessage()).startsWith("bind(");
  }

  private static String listenHost() {
    return lastConfig == null ? "?" : lastConfig.listen().host();
  }

  private static int listenPort() {
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

  private static int checkConfig(List<String> args, PrintStream out, PrintStream err) {
    Path config = configPath(option(args, "--config"));
    noMore(args);
    Vertx vertx = Vertx.vertx();
    try {
      ProxyConfig cfg = ConfigLoader.load(vertx, config).await(30, TimeUnit.SECONDS);
      if (cfg.cluster().enabled() && cfg.cluster().memoEnabled()) {
        // The file this node would read at start: missing, unreadable or short is an error here too.
        MemoSecret.fromFile(Path.of(cfg.cluster().memoSecretFile()), "cluster.memo-secret-file");
      }
      out.println("ok: " + ConfigLoader.describe(config) + " (listen " + IpLiterals.hostPort(cfg.listen().host(), cfg.listen().port())
          + ", " + cfg.users().size() + " users, " + cfg.rules().request().size() + " request rules)");
      return 0;
    } catch (ConfigException e) {
      err.println("vxsocks: config error: " + e.getMessage());
      return 2;
    } catch (Exception e) {
      err.println("vxsocks: " + rootCause(e));
      return 1;
    } finally {
      vertx.close();
    }
  }

  private static int hashPassword(List<String> args, PrintStream out, PrintStream err) {
    String it = option(args, "--iterations");
    noMore(args);
    int iterations = PasswordHash.DEFAULT_ITERATIONS;
    if (it != null) {
      try {
        iterations = Integer.parseInt(it);
      } catch (NumberFormatException e) {
        throw new UsageException("--iterations must be a whole number");
      }
      if (iterations < PasswordHash.MIN_ITERATIONS) {
        throw new UsageException("--iterations must be at least " + PasswordHash.MIN_ITERATIONS);
      }
    }
    char[] password = readPassword(err);
    if (password == null) {
      return 1;
    }
    out.println(PasswordHash.create(password, iterations).encoded());
    Arrays.fill(password, '\0');
    return 0;
  }

  /** The password from the terminal (asked twice) or one line of stdin; null (after a message) when unusable. */
  static char[] readPassword(PrintStream err) {
    char[] password;
    Console console = System.console();
    if (console != null) {
      password = console.readPassword("password: ");
      char[] again = console.readPassword("again: ");
      if (password == null || again == null || !Arrays.equals(password, again)) {
        err.println("vxsocks: the passwords do not match");
        return null;
      }
    } else {
      try {
        String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        password = line == null ? new char[0] : line.toCharArray();
      } catch (java.io.IOException e) {
        err.println("vxsocks: cannot read the password from stdin: " + e.getMessage());
        return null;
      }
    }
    if (password.length == 0) {
      err.println("vxsocks: the password must not be empty");
      return null;
    }
    if (new String(password).getBytes(StandardCharsets.UTF_8).length > 255) {
      err.println("vxsocks: the password is longer than the 255 bytes RFC 1929 allows");
      return null;
    }
    return password;
  }

  static Path configPath(String option) {
    String p = option != null ? option : System.getenv("VXSOCKS_CONFIG") != null ? System.getenv("VXSOCKS_CONFIG")
        : System.getProperty("vxsocks.config");
    return p == null ? null : Path.of(p);
  }

  static String option(List<String> args, String name) {
    int i = args.indexOf(name);
    if (i < 0) {
      return null;
    }
    if (i + 1 >= args.size()) {
      throw new UsageException(name + " needs a value");
    }
    String v = args.get(i + 1);
    args.remove(i + 1);
    args.remove(i);
    return v;
  }

  static void noMore(List<String> args) {
    if (!args.isEmpty()) {
      throw new UsageException("unexpected argument '" + args.get(0) + "'");
    }
  }

  static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  /** A command line we cannot use. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message, null, false, false);
    }
  }
}
