package dev.vxsocks.launcher;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/**
 * The admin HTTP endpoint ({@code admin.host}:{@code admin.port}) that load balancers and orchestrators ask:
 * <ul>
 *   <li>{@code GET /health/live}: 200 while the process serves requests at all (a restart would not help otherwise);</li>
 *   <li>{@code GET /health/ready}: 200 while the node should be given new sessions, else 503 with a one-line JSON
 *   reason ({@link Readiness});</li>
 *   <li>{@code GET /metrics}: the node's metrics in Prometheus' text format ({@link NodeMetrics});</li>
 *   <li>{@code GET /status}: the node's status record as JSON ({@link StatusReport}), what {@code vxsocks status}
 *   shows for a single node.</li>
 * </ul>
 * Plain Vert.x core HTTP on the node's own Vert.x instance; nothing here touches a session.
 */
final class AdminServer {

  static final String LIVE = "/health/live";
  static final String READY = "/health/ready";
  static final String METRICS = "/metrics";
  static final String STATUS = "/status";

  private AdminServer() {
  }

  /** Listens on {@code host}:{@code port} (0: a free port, for tests); the future fails if it cannot. */
  static Future<HttpServer> start(Vertx vertx, String host, int port, Readiness readiness, NodeMetrics metrics) {
    return start(vertx, host, port, readiness, metrics, null);
  }

  /** As above, serving {@code status} at {@link #STATUS} (null: not served). */
  static Future<HttpServer> start(Vertx vertx, String host, int port, Readiness readiness, NodeMetrics metrics,
                                  StatusReport status) {
    return vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port).setIdleTimeout(30))
        .requestHandler(request -> handle(request, readiness, metrics, status))
        .listen();
  }

  private static void handle(HttpServerRequest request, Readiness readiness, NodeMetrics metrics, StatusReport status) {
    if (status != null && request.path().equals(STATUS)
        && (request.method() == HttpMethod.GET || request.method() == HttpMethod.HEAD)) {
      status.record().onComplete(ar -> {
        if (ar.succeeded()) {
          respond(request, 200, ar.result());
        } else {
          respond(request, 500, new JsonObject().put("status", "status failed: " + ar.cause().getMessage()));
        }
      });
      return;
    }
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      respond(request, 405, new JsonObject().put("status", "method not allowed"));
      return;
    }
    switch (request.path()) {
      case LIVE:
        respond(request, 200, new JsonObject().put("status", "live"));
        break;
      case READY:
        readiness.notReadyReason().onComplete(ar -> {
          String reason = ar.succeeded() ? ar.result() : "readiness check failed: " + ar.cause().getMessage();
          respond(request, reason == null ? 200 : 503, reason == null ? new JsonObject().put("status", "ready")
              : new JsonObject().put("status", "not ready").put("reason", reason));
        });
        break;
      case METRICS:
        request.response().setStatusCode(200)
            .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
            .putHeader("cache-control", "no-store")
            .end(metrics.scrape());
        break;
      default:
        respond(request, 404, new JsonObject().put("status", "not found")
            .put("paths", LIVE + " " + READY + " " + METRICS + (status == null ? "" : " " + STATUS)));
    }
  }

  private static void respond(HttpServerRequest request, int status, JsonObject body) {
    request.response().setStatusCode(status)
        .putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store")
        .end(body.encode() + "\n");
  }
}
