package dev.vxsocks.launcher;

import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

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
}
