package dev.vxsocks.launcher;

import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.testing.TestProxy;
import dev.vxsocks.testing.Transports;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;

/**
 * The in-JVM proxy of the shared fixtures ({@link TestProxy}: its configurations, user and password) started as
 * launcher's {@link Node}, which the end-to-end tests here go through.
 */
final class ProxyFixture {

  private ProxyFixture() {
  }

  /**
   * Starts a node on {@code vertx} with {@link TestProxy#INSTANCES} connection verticles. {@code vertx} must not run
   * another one: the auth verticle's event-bus addresses are per Vert.x instance (see NodeStartTest), and
   * {@code Node.start} refuses a second.
   */
  static Future<Node> start(Vertx vertx, JsonObject config) {
    return Node.start(vertx, ProxyConfig.fromJson(config), TestProxy.INSTANCES);
  }

  /** {@link Transports#vertx}; for HalfCloseTest, which calls it by this name. */
  static Vertx vertx(String transport) {
    return Transports.vertx(transport);
  }

  /** {@link Transports#nativeVertx}; for SocketTransportTest, which calls it by this name. */
  static Vertx nativeVertx() {
    return Transports.nativeVertx();
  }

  /** {@link Transports#channel}; for HalfCloseTest and SocketTransportTest. */
  static Channel channel(NetSocket socket) {
    return Transports.channel(socket);
  }
}
