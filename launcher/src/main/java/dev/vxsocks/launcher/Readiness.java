package dev.vxsocks.launcher;

import com.hazelcast.core.HazelcastInstance;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;

import java.util.concurrent.TimeUnit;

/**
 * Whether this node should be given new sessions, as {@code GET /health/ready} reports it to a load balancer. Ready
 * means: the proxy is listening, the node has not begun to drain, and in a cluster the Hazelcast member is running
 * and, under {@code cluster.store-unreachable: refuse}, the session store answers (a node that would refuse every
 * limited session with {@code 0x01} should not be handed them). Under {@code allow} a silent store does not make the
 * node unready: it admits sessions uncounted, which is what its operator chose.
 */
final class Readiness {

  private final HazelcastInstance hz;
  private final ProxyConfig.Cluster cluster;
  private volatile boolean listening;
  private volatile boolean draining;

  /** {@code hz} null: a single node. */
  Readiness(HazelcastInstance hz, ProxyConfig.Cluster cluster) {
    this.hz = hz;
    this.cluster = cluster;
  }

  void listening() {
    listening = true;
  }

  /** From now on the node reports itself unready, whatever else holds: it is going away. */
  void draining() {
    draining = true;
  }

  /** Null when ready, else why not (one short phrase). */
  Future<String> notReadyReason() {
    if (draining) {
      return Future.succeededFuture("draining");
    }
    if (!listening) {
      return Future.succeededFuture("starting");
    }
    if (hz == null) {
      return Future.succeededFuture(null);
    }
    if (!hz.getLifecycleService().isRunning()) {
      return Future.succeededFuture("not a cluster member");
    }
    if (!cluster.refuseWhenUnreachable()) {
      return Future.succeededFuture(null);
    }
    long timeoutMs = cluster.storeTimeout().toMillis();
    // One read of the store a limit check uses, bounded like a limit check: what a session would meet now.
    return Future.fromCompletionStage(hz.getMap(HazelcastSetup.SESSIONS_MAP).getAsync("readiness-probe")
            .toCompletableFuture().orTimeout(timeoutMs, TimeUnit.MILLISECONDS))
        .map(v -> (String) null)
        .otherwise(err -> "cluster session store not answering within " + timeoutMs + "ms");
  }
}
