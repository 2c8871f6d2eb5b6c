package dev.vxsocks.proxy;

import dev.vxsocks.auth.AuthVerticle;
import dev.vxsocks.auth.InMemorySessionLimiter;
import dev.vxsocks.auth.InMemoryUserStore;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.command.PooledResolver;
import dev.vxsocks.proxy.command.Resolver;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A proxy node (auth verticle + connection verticles) on 127.0.0.1 and an OS-chosen port, for tests. Each node has
 * its own Vert.x, as in production: two auth verticles on one event bus would share the addresses.
 */
final class TestProxy implements AutoCloseable {

  static final String USER = "alice";
  static final String PASSWORD = "s3cret-pw";
  /** Cheap to verify, so tests do not wait on the slow hash. */
  static final String PASSWORD_HASH = PasswordHash.create(PASSWORD.toCharArray(), 1000).encoded();

  final Vertx vertx;
  final ProxyServer server;
  final ProxyConfig config;

  private TestProxy(Vertx vertx, ProxyServer server, ProxyConfig config) {
    this.vertx = vertx;
    this.server = server;
    this.config = config;
  }

  int port() {
    return server.port();
  }

  /** Loopback targets named explicitly, 127.0.0.66 denied, everything else allowed; handshake deadline 2 s. */
  static JsonObject baseConfig() {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("auth", new JsonObject().put("methods", new JsonArray().add("none")))
        .put("users", new JsonArray().add(new JsonObject().put("name", USER).put("password", PASSWORD_HASH))
            .add(new JsonObject().put("name", "bob").put("password", PASSWORD_HASH).put("enabled", false)))
        .put("rules", new JsonObject().put("request", new JsonArray()
            .add(new JsonObject().put("action", "deny").put("to", new JsonArray().add("127.0.0.66")))
            .add(new JsonObject().put("action", "allow").put("to", new JsonArray().add("127.0.0.1").add("127.0.0.2").add("::1").add("localhost")))
            .add(new JsonObject().put("action", "allow").put("to", new JsonArray().add("0.0.0.0/0").add("::/0").add("*")))))
        .put("timeouts", new JsonObject().put("handshake", "2s"));
  }

  static TestProxy start(JsonObject json) throws Exception {
    return start(json, PooledResolver::new);
  }

  /** As {@link #start(JsonObject)}, resolving names with the resolver {@code resolver} makes for the node's Vert.x. */
  static TestProxy start(JsonObject json, Function<Vertx, Resolver> resolver) throws Exception {
    Vertx vertx = Vertx.vertx();
    ProxyConfig config = ProxyConfig.fromJson(json);
    AuthVerticle auth = new AuthVerticle(config, new InMemoryUserStore(config.users()), new InMemorySessionLimiter());
    ProxyServer server = vertx.deployVerticle(auth)
        .compose(id -> ProxyServer.deploy(vertx, config, 2, resolver.apply(vertx)))
        .await(20, TimeUnit.SECONDS);
    return new TestProxy(vertx, server, config);
  }

  @Override
  public void close() throws Exception {
    vertx.close().await(20, TimeUnit.SECONDS);
  }
}
