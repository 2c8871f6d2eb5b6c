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

  private static final String NODE_MAP = "vxsocks.node";

  private final Vertx vertx;
  private final ProxyServer server;

  private Node(Vertx vertx, ProxyServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /** Deploys the auth verticle first (the proxy asks it from its first connection on), then the proxy. */
  public static Future<Node> start(Vertx vertx, ProxyConfig config, int proxyInstances) {
    // The auth verticle's addresses are per Vert.x instance: a second node on the same one would answer for the first.
    if (vertx.sharedData().getLocalMap(NODE_MAP).putIfAbsent("node", Boolean.TRUE) != null) {
      return Future.failedFuture(new IllegalStateException("a vxsocks node is already running on this Vert.x instance"));
    }
    AuthVerticle auth = new AuthVerticle(config, new InMemoryUserStore(config.users()), new InMemorySessionLimiter());
    return vertx.deployVerticle(auth)
        .compose(id -> ProxyServer.deploy(vertx, config, proxyInstances))
        .map(server -> new Node(vertx, server));
  }

  /** Stops accepting, ends every session (which gives its slots back to the auth verticle), then closes Vert.x. */
  public Future<Void> stop() {
    return server.stop(vertx).eventually(() -> vertx.close());
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
