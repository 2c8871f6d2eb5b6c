package dev.vxsocks.proxy;

import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Deploys the connection verticle, one instance per event loop, all sharing one listening port. With port 0 the
 * first instance lets the OS choose and the others join it.
 */
public final class ProxyServer {

  private final int port;
  private final ProxyStats stats;

  private ProxyServer(int port, ProxyStats stats) {
    this.port = port;
    this.stats = stats;
  }

  public static Future<ProxyServer> deploy(Vertx vertx, ProxyConfig config, int instances) {
    ProxyStats stats = new ProxyStats();
    Socks5ProxyVerticle first = new Socks5ProxyVerticle(config, stats);
    return vertx.deployVerticle(first).compose(id -> {
      int port = first.actualPort();
      if (instances <= 1) {
        return Future.succeededFuture(new ProxyServer(port, stats));
      }
      ProxyConfig fixed = new ProxyConfig(new ProxyConfig.Listen(config.listen().host(), port), config.auth(),
          config.users(), config.rules(), config.timeouts(), config.limits());
      return vertx.deployVerticle(() -> new Socks5ProxyVerticle(fixed, stats), new DeploymentOptions().setInstances(instances - 1))
          .map(more -> new ProxyServer(port, stats));
    });
  }

  /** The port the proxy listens on. */
  public int port() {
    return port;
  }

  public ProxyStats stats() {
    return stats;
  }
}
