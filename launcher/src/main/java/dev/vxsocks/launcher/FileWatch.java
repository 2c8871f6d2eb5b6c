package dev.vxsocks.launcher;

import dev.vxsocks.config.ConfigException;
import dev.vxsocks.config.ConfigLoader;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Logger;

/**
 * {@code run --watch}: a single node re-reads its configuration file (vertx-config scan) and applies what can change
 * live (users, rules, limits). A file that does not validate changes nothing and is logged with the key at fault.
 * Cluster nodes do not watch files: one node's edit would make it differ from the others; {@code config apply} is
 * the cluster's way.
 */
final class FileWatch {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.node");

  private FileWatch() {
  }

  /** Starts watching {@code file} for {@code node}; completes once the current content is the baseline. */
  static Future<ConfigRetriever> start(Vertx vertx, Path file, Node node, Duration scanPeriod) {
    ConfigRetriever retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions()
        .setIncludeDefaultStores(false)
        .setScanPeriod(scanPeriod.toMillis())
        .addStore(new ConfigStoreOptions().setType("file").setFormat("yaml")
            .setConfig(new JsonObject().put("path", file.toString()))));
    return retriever.getConfig().map(baseline -> {
      retriever.listen(change -> apply(file, node, change.getNewConfiguration()));
      return retriever;
    });
  }

  static void apply(Path file, Node node, JsonObject raw) {
    String version;
    ProxyConfig next;
    try {
      // Refused like at start-up: a document JSON cannot hold would otherwise throw from version() or copy().
      ConfigLoader.jsonOnly(file.toString(), raw);
      version = ConfigLoader.version(raw);
      next = ConfigLoader.validateWithOverrides(raw.copy());
    } catch (ConfigException e) {
      LOG.warning("config: " + file + " changed but is not valid, still running version " + node.version() + ": "
          + e.getMessage());
      return;
    }
    node.reload(next, version);
    LOG.info("config: " + file + " reloaded, now running version " + version
        + " (users, rules, limits, timeouts and auth methods are live; listen, bind and udp need a restart)");
  }
}
