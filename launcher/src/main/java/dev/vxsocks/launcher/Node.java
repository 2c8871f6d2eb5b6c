package dev.vxsocks.launcher;

import dev.vxsocks.auth.AuthVerticle;
import dev.vxsocks.auth.InMemorySessionLimiter;
import dev.vxsocks.auth.InMemoryUserStore;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.ProxyServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** One running proxy node: the auth verticle and the connection verticles, deployed on a Vert.x instance. */
public final class Node {

  private final Vertx vertx;
  private final ProxyServer server;

  private Node(Vertx vertx, ProxyServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /** Deploys the auth verticle first (the proxy asks it from its first connection on), then the proxy. */
  public static Future<Node> start(Vertx vertx, ProxyConfig config, int proxyInstances) {
    AuthVerticle auth = new AuthVerticle(config, new InMemoryUserStore(config.users()), new InMemorySessionLimiter());
    return vertx.deployVerticle(auth)
        .compose(id -> ProxyServer.deploy(vertx, config, proxyInstances))
        .map(server -> new Node(vertx, server));
  }

  public int port() {
    return server.port();
  }

  public ProxyServer server() {
    return server;
  }

  public Vertx vertx() {
    return vertx;
  }
}
