package dev.vxsocks.launcher;

import dev.vxsocks.auth.MemoSecret;
import dev.vxsocks.config.ConfigException;
import dev.vxsocks.config.ConfigLoader;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.Vertx;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** {@code check-config}: validates a configuration as a starting node would, and says what it found. */
@Command(name = "check-config", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {"Validate a configuration (with the VXSOCKS_* and -Dvxsocks.* overrides) as a starting node would, "
        + "a cluster node's memo secret file included. Exit code 2 and one line naming the key when it is not valid."})
final class CheckConfigCommand implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE", description = Main.CONFIG_HELP)
  String config;

  private final Main.Io io;

  CheckConfigCommand(Main.Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    Path file = Main.configPath(config);
    Vertx vertx = Vertx.vertx();
    try {
      ProxyConfig cfg = ConfigLoader.load(vertx, file).await(30, TimeUnit.SECONDS);
      if (cfg.cluster().enabled() && cfg.cluster().memoEnabled()) {
        // The file this node would read at start: missing, unreadable or short is an error here too.
        MemoSecret.fromFile(Path.of(cfg.cluster().memoSecretFile()), "cluster.memo-secret-file");
      }
      io.out().println("ok: " + ConfigLoader.describe(file) + " (listen " + IpLiterals.hostPort(cfg.listen().host(), cfg.listen().port())
          + ", " + cfg.users().size() + " users, " + cfg.rules().request().size() + " request rules)");
      return 0;
    } catch (ConfigException e) {
      io.err().println("vxsocks: config error: " + e.getMessage());
      return 2;
    } catch (Exception e) {
      io.err().println("vxsocks: " + Main.rootCause(e));
      return 1;
    } finally {
      vertx.close();
    }
  }
}
