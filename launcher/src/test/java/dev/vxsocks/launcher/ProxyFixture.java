package dev.vxsocks.launcher;

import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.transport.SocketTransport;
import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;

import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A proxy node for end-to-end tests: loopback only, port 0, one user, request rules that name loopback explicitly
 * (the safe default refuses loopback destinations otherwise: README, "Rules"). Also records the proxy's log lines so that a failing
 * assertion can show what the proxy said.
 */
final class ProxyFixture {

  static final String USER = "alice";
  static final String PASSWORD = "open-sesame-42";
  /** 1000 iterations: the minimum the format accepts, cheap enough for tests. */
  static final String PASSWORD_HASH = PasswordHash.create(PASSWORD.toCharArray(), PasswordHash.MIN_ITERATIONS).encoded();
  /** Instances of the connection verticle: more than one, as in production, all sharing the port 0 picked. */
  static final int INSTANCES = 2;

  private static final Set<Vertx> WITH_NODE = Collections.newSetFromMap(new WeakHashMap<>());

  private ProxyFixture() {
  }

  /** A configuration offering {@code methods} (none, username-password) in that order. */
  static JsonObject config(String... methods) {
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

  /**
   * Starts a node on {@code vertx}, which must not run another one: the auth verticle's event-bus addresses are
   * per Vert.x instance, so two nodes on one instance would answer each other's questions (see NodeStartTest).
   */
  static Future<Node> start(Vertx vertx, JsonObject config) {
    synchronized (WITH_NODE) {
      if (!WITH_NODE.add(vertx)) {
        return Future.failedFuture(new IllegalStateException("this Vert.x instance already runs a node: use one Vert.x per node"));
      }
    }
    return Node.start(vertx, ProxyConfig.fromJson(config), INSTANCES);
  }

  /** A new Vert.x instance: {@code nio} (Vert.x's default transport) or {@code native} (epoll, as Main prefers). */
  static Vertx vertx(String transport) {
    switch (transport) {
      case "nio": return Vertx.vertx();
      case "native": return nativeVertx();
      default: throw new IllegalArgumentException(transport);
    }
  }

  /** A Vert.x instance on the native transport (epoll), as {@code Main} runs it; fails if epoll is unavailable. */
  static Vertx nativeVertx() {
    Vertx vertx = Vertx.builder().withTransport(SocketTransport.preferred()).build();
    if (!vertx.isNativeTransportEnabled()) {
      Throwable cause = vertx.unavailableNativeTransportCause();
      vertx.close();
      throw new AssertionError("the native transport (epoll) is not available: " + cause, cause);
    }
    return vertx;
  }

  /** The Netty channel under a Vert.x TCP socket, to read back what the kernel and Netty hold for it. */
  static Channel channel(NetSocket socket) {
    return ((NetSocketInternal) socket).channelHandlerContext().channel();
  }

  /** Captures every record of the {@code dev.vxsocks} loggers, FINE and up, while open. */
  static final class LogCapture extends Handler implements AutoCloseable {
    /** Held strongly: java.util.logging keeps loggers only weakly, and the level set here must stick. */
    private static final Logger ROOT = Logger.getLogger("dev.vxsocks");
    private final Queue<String> lines = new ConcurrentLinkedQueue<>();
    private final Level previous;

    LogCapture() {
      previous = ROOT.getLevel();
      setLevel(Level.ALL);
      ROOT.setLevel(Level.FINE);
      ROOT.addHandler(this);
    }

    @Override
    public void publish(LogRecord r) {
      lines.add(r.getLevel() + " " + r.getLoggerName() + " " + r.getMessage());
    }

    /** Waits (at most 20 s, polling) until a record containing {@code fragment} has been logged. */
    boolean awaitLine(String fragment) throws InterruptedException {
      for (int i = 0; i < 200; i++) {
        if (lines.stream().anyMatch(l -> l.contains(fragment))) {
          return true;
        }
        Thread.sleep(100);
      }
      return false;
    }

    /** Everything logged so far, one record a line. */
    String text() {
      return String.join("\n", lines);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
      ROOT.removeHandler(this);
      ROOT.setLevel(previous);
    }
  }
}
