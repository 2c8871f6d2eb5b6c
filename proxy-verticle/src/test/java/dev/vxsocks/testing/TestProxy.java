package dev.vxsocks.testing;

import dev.vxsocks.auth.AuthVerticle;
import dev.vxsocks.auth.InMemorySessionLimiter;
import dev.vxsocks.auth.InMemoryUserStore;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.command.PooledResolver;
import dev.vxsocks.proxy.command.Resolver;
import dev.vxsocks.proxy.ProxyServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A proxy node (auth verticle + connection verticles) on 127.0.0.1 and an OS-chosen port, for tests, and the
 * configurations tests start nodes with. Each node has its own Vert.x, as in production: two auth verticles on one
 * event bus would share the addresses. (launcher's tests start the same configurations through its {@code Node}.)
 */
public final class TestProxy implements AutoCloseable {

  public static final String USER = "alice";
  public static final String PASSWORD = "open-sesame-42";
  /** 1000 iterations: the minimum the format accepts, cheap enough for tests. */
  public static final String PASSWORD_HASH =
      PasswordHash.create(PASSWORD.toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
  /** Instances of the connection verticle: more than one, as in production, all sharing the port 0 picked. */
  public static final int INSTANCES = 2;

  public final Vertx vertx;
  public final ProxyServer server;
  public final ProxyConfig config;

  private TestProxy(Vertx vertx, ProxyServer server, ProxyConfig config) {
    this.vertx = vertx;
    this.server = server;
    this.config = config;
  }

  public int port() {
    return server.port();
  }

  /**
   * For exact-reply tests: loopback targets named explicitly, 127.0.0.66 denied, everything else allowed (which still
   * leaves unnamed loopback and link-local addresses out); no auth; alice and the disabled bob; handshake deadline 2 s.
   */
  public static JsonObject baseConfig() {
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

  /**
   * For tests with real clients: offering {@code methods} (none, username-password) in that order; one user, alice;
   * clients and destinations on loopback only, named explicitly (the safe default refuses loopback destinations
   * otherwise: README, "Rules").
   */
  public static JsonObject config(String... methods) {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("auth", new JsonObject().put("methods", new JsonArray(List.of((Object[]) methods))))
        .put("users", new JsonArray().add(new JsonObject().put("name", USER).put("password", PASSWORD_HASH)))
        .put("rules", new JsonObject()
            .put("client", new JsonArray().add(new JsonObject().put("action", "allow")
                .put("from", new JsonArray().add("127.0.0.0/8").add("::1/128"))))
            .put("request", new JsonArray().add(new JsonObject().put("action", "allow")
                .put("to", new JsonArray().add("127.0.0.0/8").add("::1/128").add("localhost")))));
  }

  /** Starts a node with {@code json} on a Vert.x of its own, which {@link #close()} closes. */
  public static TestProxy start(JsonObject json) throws Exception {
    return start(json, PooledResolver::new);
  }

  /** As {@link #start(JsonObject)}, resolving names with the resolver {@code resolver} makes for the node's Vert.x. */
  public static TestProxy start(JsonObject json, Function<Vertx, Resolver> resolver) throws Exception {
    ProxyConfig config = ProxyConfig.fromJson(json);
    Vertx vertx = Vertx.vertx();
    try {
      AuthVerticle auth = new AuthVerticle(config, new InMemoryUserStore(config.users()), new InMemorySessionLimiter());
      ProxyServer server = vertx.deployVerticle(auth)
          .compose(id -> ProxyServer.deploy(vertx, config, INSTANCES, resolver.apply(vertx)))
          .await(20, TimeUnit.SECONDS);
      return new TestProxy(vertx, server, config);
    } catch (Exception | Error e) {
      // A node that did not start (a test of start-up failures) leaves no Vert.x threads behind.
      vertx.close().await(20, TimeUnit.SECONDS);
      throw e;
    }
  }

  @Override
  public void close() throws Exception {
    vertx.close().await(20, TimeUnit.SECONDS);
  }
}
