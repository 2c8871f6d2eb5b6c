package dev.vxsocks.launcher;

import com.hazelcast.cluster.Address;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * This node's status record, what {@code vxsocks status} shows for it: the Hazelcast member address (cluster nodes),
 * the SOCKS listening address, the running configuration's version, the sessions open, the process's uptime and the
 * readiness that {@code /health/ready} reports. Served at {@code GET /status} on the admin port, and in a cluster
 * published to {@link HazelcastSetup#STATUS_MAP} under the member's UUID: the command line reaches the cluster as a
 * Hazelcast client from any host, while admin ports listen on 127.0.0.1 by default.
 *
 * <p>The record is rewritten every {@link #PERIOD} with a time-to-live of {@link #TTL}: a member killed without
 * leaving loses its record on its own (the command then shows it as "no report" until the others notice it is
 * gone); a node that drains withdraws its record before it leaves.
 */
final class StatusReport {

  static final Duration PERIOD = Duration.ofSeconds(2);
  /** Three periods: a record outlives a late refresh or two on a loaded host, not a dead member for long. */
  static final Duration TTL = PERIOD.multipliedBy(3);
  private static final Logger LOG = Logger.getLogger("dev.vxsocks.node");

  private final ProxyConfig config;
  private final Readiness readiness;
  private final HazelcastInstance hz;
  private volatile Node node;
  private volatile IMap<String, String> map;
  private volatile String key;
  private long timer = -1;
  private volatile boolean withdrawn;

  /** {@code hz} null: a single node, whose record is only served on its admin port. */
  StatusReport(ProxyConfig config, Readiness readiness, HazelcastInstance hz) {
    this.config = config;
    this.readiness = readiness;
    this.hz = hz;
  }

  /** The node is deployed: its port, sessions and version from now on (before, the record says "starting"). */
  void started(Node node) {
    this.node = node;
  }

  /** The record now (see the class comment for its fields). */
  Future<JsonObject> record() {
    return readiness.notReadyReason()
        .otherwise(err -> "readiness check failed: " + err.getMessage())
        .map(reason -> {
          Node n = node;
          JsonObject r = new JsonObject()
              .put("member", memberAddress())
              .put("listen", n == null ? null : IpLiterals.hostPort(config.listen().host(), n.port()))
              .put("config_version", n == null ? null : n.version())
              .put("sessions_open", n == null ? 0 : n.server().stats().openSessions())
              .put("uptime_s", ManagementFactory.getRuntimeMXBean().getUptime() / 1000)
              .put("ready", reason == null)
              .put("vxsocks_version", BuildInfo.version() + " (commit " + BuildInfo.commit() + ")")
              .put("reported_at", Instant.now().toString());
          if (reason != null) {
            r.put("reason", reason);
          }
          return r;
        });
  }

  private String memberAddress() {
    if (hz == null) {
      return null;
    }
    try {
      Address a = hz.getCluster().getLocalMember().getAddress();
      return IpLiterals.hostPort(a.getHost(), a.getPort());
    } catch (RuntimeException notAMember) {
      return null;
    }
  }

  /** Cluster nodes: publishes the record now and every {@link #PERIOD}. Blocking (gets the map): not on an event loop. */
  void publish(Vertx vertx) {
    if (hz == null) {
      return;
    }
    map = hz.getMap(HazelcastSetup.STATUS_MAP);
    key = hz.getCluster().getLocalMember().getUuid().toString();
    refresh();
    synchronized (this) {
      timer = vertx.setPeriodic(PERIOD.toMillis(), id -> refresh());
    }
  }

  private void refresh() {
    record().onSuccess(r -> {
      if (withdrawn) {
        return; // a refresh still in flight must not put back the record withdraw removed
      }
      try {
        map.setAsync(key, r.encode(), TTL.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, err) -> {
          if (err != null) {
            LOG.log(Level.FINE, "status: record not published: " + err);
          }
        });
      } catch (RuntimeException notRunning) {
        // The member is shutting down: the record expires on its own.
        LOG.log(Level.FINE, "status: record not published: " + notRunning);
      }
    });
  }

  /** Stops publishing and removes the record, before the node leaves the cluster. Blocking. */
  void withdraw(Vertx vertx) {
    withdrawn = true;
    synchronized (this) {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }
    IMap<String, String> m = map;
    if (m != null) {
      try {
        m.delete(key);
      } catch (RuntimeException gone) {
        LOG.log(Level.FINE, "status: record not withdrawn (it expires on its own): " + gone);
      }
    }
  }
}
