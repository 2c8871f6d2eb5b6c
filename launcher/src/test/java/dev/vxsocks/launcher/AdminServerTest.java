package dev.vxsocks.launcher;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin endpoint as a load balancer's health check asks it (the JDK's HTTP client): readiness follows the
 * node's state, liveness does not. The drain's effect on it, in a real process, is in MainRunProcessTest.
 */
@ExtendWith(VertxExtension.class)
class AdminServerTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static String request(int port, String method, String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    return r.statusCode() + " " + r.body().trim();
  }

  private static int start(Vertx vertx, Readiness readiness) throws Exception {
    return AdminServer.start(vertx, "127.0.0.1", 0, readiness, new NodeMetrics()).await(10, TimeUnit.SECONDS).actualPort();
  }

  @Test
  void singleNodeReadinessFollowsItsState(Vertx vertx) throws Exception {
    Readiness readiness = new Readiness(null, ProxyConfig.Cluster.DISABLED);
    int port = start(vertx, readiness);
    assertThat(request(port, "GET", "/health/ready")).isEqualTo("503 {\"status\":\"not ready\",\"reason\":\"starting\"}");
    assertThat(request(port, "GET", "/health/live")).isEqualTo("200 {\"status\":\"live\"}");
    readiness.listening();
    assertThat(request(port, "GET", "/health/ready")).isEqualTo("200 {\"status\":\"ready\"}");
    readiness.draining();
    assertThat(request(port, "GET", "/health/ready")).isEqualTo("503 {\"status\":\"not ready\",\"reason\":\"draining\"}");
    assertThat(request(port, "GET", "/health/live")).isEqualTo("200 {\"status\":\"live\"}");
  }

  @Test
  void otherPathsAndMethodsAreRefused(Vertx vertx) throws Exception {
    int port = start(vertx, new Readiness(null, ProxyConfig.Cluster.DISABLED));
    assertThat(request(port, "GET", "/")).startsWith("404 ");
    assertThat(request(port, "GET", "/health/ready/../live")).startsWith("404 ");
    assertThat(request(port, "POST", "/health/ready")).startsWith("405 ");
    assertThat(request(port, "DELETE", "/health/live")).startsWith("405 ");
  }

  /**
   * {@code GET /status}: the node's record, "starting" until the node is deployed, then its listening address,
   * configuration version and open connections (a handshake in progress counts).
   */
  @Test
  void statusIsTheNodesRecord(Vertx vertx) throws Exception {
    ProxyConfig cfg = ProxyConfig.fromJson(new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("auth", new JsonObject().put("methods", new io.vertx.core.json.JsonArray().add("none"))));
    Readiness readiness = new Readiness(null, cfg.cluster());
    StatusReport status = new StatusReport(cfg, readiness, null);
    int port = AdminServer.start(vertx, "127.0.0.1", 0, readiness, new NodeMetrics(), status)
        .await(10, TimeUnit.SECONDS).actualPort();
    JsonObject starting = status(port);
    assertThat(starting.getBoolean("ready")).as("%s", starting).isFalse();
    assertThat(starting.getString("reason")).isEqualTo("starting");
    assertThat(starting.getValue("listen")).isNull();
    assertThat(starting.getValue("member")).isNull();
    assertThat(request(port, "POST", "/status")).startsWith("405 ");

    Node node = Node.start(vertx, cfg, "0123456789ab", 1, null).await(20, TimeUnit.SECONDS);
    status.started(node);
    readiness.listening();
    JsonObject ready = status(port);
    assertThat(ready.getBoolean("ready")).as("%s", ready).isTrue();
    assertThat(ready.containsKey("reason")).as("%s", ready).isFalse();
    assertThat(ready.getString("listen")).isEqualTo("127.0.0.1:" + node.port());
    assertThat(ready.getString("config_version")).isEqualTo("0123456789ab");
    assertThat(ready.getInteger("sessions_open")).isZero();
    assertThat(ready.getLong("uptime_s")).isNotNegative();
    try (java.net.Socket client = new java.net.Socket("127.0.0.1", node.port())) {
      NodeProcess.poll(Duration.ofSeconds(10), () -> status(port).getInteger("sessions_open") == 1);
    }
    readiness.draining();
    assertThat(status(port).getString("reason")).isEqualTo("draining");
  }

  private static JsonObject status(int port) {
    try {
      String r = request(port, "GET", "/status");
      assertThat(r).startsWith("200 ");
      return new JsonObject(r.substring(4));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** A cluster member is ready while it runs and its session store answers; once it has left, it is not. */
  @Test
  void clusterMemberReadiness(Vertx vertx) throws Exception {
    int hzPort;
    try (ServerSocket s = new ServerSocket(0)) {
      hzPort = s.getLocalPort();
    }
    ProxyConfig.Cluster cluster = ProxyConfig.fromJson(new JsonObject().put("cluster", new JsonObject()
        .put("enabled", true).put("name", "admin-" + UUID.randomUUID()).put("host", "127.0.0.1").put("port", hzPort)
        .put("join-wait", "0s").put("store-timeout", "500ms"))).cluster();
    HazelcastInstance hz = Hazelcast.newHazelcastInstance(HazelcastSetup.hazelcastConfig(cluster, false));
    try {
      Readiness readiness = new Readiness(hz, cluster);
      readiness.listening();
      int port = start(vertx, readiness);
      assertThat(request(port, "GET", "/health/ready")).isEqualTo("200 {\"status\":\"ready\"}");
      hz.shutdown();
      assertThat(request(port, "GET", "/health/ready"))
          .isEqualTo("503 {\"status\":\"not ready\",\"reason\":\"not a cluster member\"}");
    } finally {
      hz.getLifecycleService().terminate();
    }
  }
}
