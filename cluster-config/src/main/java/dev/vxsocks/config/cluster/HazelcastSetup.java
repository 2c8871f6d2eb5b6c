package dev.vxsocks.config.cluster;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MergePolicyConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.ReplicatedMapConfig;
import com.hazelcast.spi.merge.DiscardMergePolicy;
import dev.vxsocks.config.ProxyConfig.Cluster;
import dev.vxsocks.config.ProxyConfig.Join;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

/**
 * The Hazelcast configuration of a node, built in code from the {@code cluster} section (no XML file), and the
 * clustered Vert.x started on it. Only the launcher and the cluster-wide stores use this class; the proxy never does.
 *
 * <p>It declares the structures Vert.x 5's own {@code default-cluster.xml} (vertx-hazelcast 5.0.10) declares — the
 * {@code __vertx.subs} multimap (SET values) and the {@code __vertx.haInfo} and {@code __vertx.nodeInfo} maps, each
 * with one backup — plus ours ({@link #SESSIONS_MAP}, {@link #USERS_MAP}, {@link #CONFIG_MAP}, {@link #LOGINS_MAP}),
 * also with one backup so a crashed member's data survives (README, "Running a cluster"), {@link #RATES_MAP} and
 * {@link #STATUS_MAP}, without one, and the replicated map {@link #MEMO_MAP}.
 *
 * <p>After a split brain, the side that merges into the other offers its entries of {@link #SESSIONS_MAP} to the
 * other side and {@link DiscardMergePolicy} drops them all: that map's entries hold each member's share, and the
 * merging side's copies are stale for the other side's members and filed under ids its own members lose in the
 * merge; each merged member puts its own share back instead (HazelcastSessionLimiter). The other maps keep
 * Hazelcast's default (an entry missing on the surviving side is taken over).
 *
 * <p>Failure detection and merge timing are not set here, so Hazelcast's own system properties apply unchanged
 * ({@code -Dhazelcast.heartbeat.interval.seconds}, {@code hazelcast.max.no.heartbeat.seconds},
 * {@code hazelcast.merge.first.run.delay.seconds}, {@code hazelcast.merge.next.run.delay.seconds}; README, "Split
 * brain").
 */
public final class HazelcastSetup {

  /** One entry per limited key ({@code u:NAME}, {@code ip:ADDRESS}) holding each member's session count. */
  public static final String SESSIONS_MAP = "vxsocks.sessions";
  /**
   * One entry per key of a new-session rate limit ({@code u:NAME}, {@code ip:ADDRESS}): its rate state, with a
   * time-to-live of a second or two and no backup (a lost state is a full bucket: HazelcastSessionRateLimiter).
   */
  public static final String RATES_MAP = "vxsocks.rates";
  /** Users by name (the cluster-wide user store). */
  public static final String USERS_MAP = "vxsocks.users";
  /** The configuration rolled out with {@code config apply}, and the version each member runs. */
  public static final String CONFIG_MAP = "vxsocks.config";
  /**
   * The verification memo, a replicated map (every member holds every entry, so a login reads its own member's copy):
   * one entry per user who logged in lately, under a key and with a value both derived with a secret the nodes hold
   * outside the cluster (auth/cluster/HazelcastVerificationMemo; docs/security/verification-memo.md).
   */
  public static final String MEMO_MAP = "vxsocks.memo";
  /**
   * Failed logins per client address (and per user name from that address), for the login throttle: one entry per
   * address, expiring on its own once its failures are older than {@code auth.throttle.window}.
   */
  public static final String LOGINS_MAP = "vxsocks.logins";
  /**
   * Each member's status record for {@code vxsocks status} (listening address, configuration version, sessions open,
   * uptime, readiness), keyed by member UUID: rewritten every few seconds with a time-to-live of a few periods, so
   * a member that died without leaving loses its record on its own; no backup (a record lost with its partition is
   * back at the next refresh).
   */
  public static final String STATUS_MAP = "vxsocks.status";

  private HazelcastSetup() {
  }

  /**
   * The Hazelcast configuration for {@code c}. A lite member ({@code lite}) holds no data and takes the first free
   * port from {@code c.port()} up (for tools; the command line uses {@link #clientConfig} instead: vertx-hazelcast
   * 5.0.10 logs a SEVERE NullPointerException when a member that is not a Vert.x node leaves).
   */
  public static Config hazelcastConfig(Cluster c, boolean lite) {
    Config cfg = new Config();
    cfg.setClusterName(c.name());
    cfg.setLiteMember(lite);
    cfg.setProperty("hazelcast.logging.type", "jdk");
    cfg.setProperty("hazelcast.phone.home.enabled", "false");
    cfg.setProperty("hazelcast.wait.seconds.before.join", Long.toString(c.joinWait().toSeconds()));
    // Vert.x leaves the cluster in its own close (our shutdown hook); Hazelcast's hook would race it.
    cfg.setProperty("hazelcast.shutdownhook.enabled", "false");
    // Bind and advertise exactly the configured address, never a guessed interface.
    cfg.setProperty("hazelcast.local.localAddress", c.host());
    cfg.setProperty("hazelcast.socket.bind.any", "false");

    NetworkConfig net = cfg.getNetworkConfig();
    net.setPort(c.port());
    net.setPortAutoIncrement(lite);
    net.setPortCount(lite ? 100 : 1);
    JoinConfig join = net.getJoin();
    join.getAutoDetectionConfig().setEnabled(false);
    join.getMulticastConfig().setEnabled(c.join() == Join.MULTICAST);
    join.getTcpIpConfig().setEnabled(c.join() == Join.TCP);
    if (c.join() == Join.TCP) {
      join.getTcpIpConfig().setMembers(c.members());
    }
    if (c.join() == Join.KUBERNETES) {
      // Hazelcast's built-in Kubernetes discovery (API lookup of the service's endpoints). Untested here.
      join.getKubernetesConfig().setEnabled(true);
      if (c.kubernetesNamespace() != null) {
        join.getKubernetesConfig().setProperty("namespace", c.kubernetesNamespace());
      }
      if (c.kubernetesServiceName() != null) {
        join.getKubernetesConfig().setProperty("service-name", c.kubernetesServiceName());
      }
    }

    cfg.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    cfg.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    cfg.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    cfg.addMapConfig(new MapConfig(SESSIONS_MAP).setBackupCount(1)
        .setMergePolicyConfig(new MergePolicyConfig().setPolicy(DiscardMergePolicy.class.getName())));
    cfg.addMapConfig(new MapConfig(RATES_MAP).setBackupCount(0));
    cfg.addMapConfig(new MapConfig(USERS_MAP).setBackupCount(1));
    cfg.addMapConfig(new MapConfig(CONFIG_MAP).setBackupCount(1));
    cfg.addReplicatedMapConfig(new ReplicatedMapConfig(MEMO_MAP));
    cfg.addMapConfig(new MapConfig(LOGINS_MAP).setBackupCount(1));
    cfg.addMapConfig(new MapConfig(STATUS_MAP).setBackupCount(0));
    return cfg;
  }

  /**
   * The configuration of a short-lived Hazelcast client (the {@code user}, {@code config} and {@code status} commands): it connects
   * to the listed members, so it needs {@code cluster.members} whatever the join method, and gives up after
   * {@code connectTimeoutMs} when no member answers. A client, unlike a lite member, is not a cluster member, so the
   * nodes see no membership change when it comes and goes.
   */
  public static ClientConfig clientConfig(Cluster c, long connectTimeoutMs) {
    ClientConfig cfg = new ClientConfig();
    cfg.setClusterName(c.name());
    cfg.setProperty("hazelcast.logging.type", "jdk");
    cfg.setProperty("hazelcast.phone.home.enabled", "false");
    cfg.setProperty("hazelcast.shutdownhook.enabled", "false");
    cfg.getNetworkConfig().setAddresses(c.members());
    cfg.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(connectTimeoutMs);
    // The client waits for a member's authentication answer as long as its heartbeat timeout (60 s by default): a
    // hung member (its kernel still accepts connections) would hold the command for a minute before the client tries
    // the next address. Five seconds, with a ping every second so that a live member is never taken for dead.
    cfg.setProperty("hazelcast.client.heartbeat.timeout", "5000");
    cfg.setProperty("hazelcast.client.heartbeat.interval", "1000");
    return cfg;
  }

  /** A cluster manager for a full (data) member configured from {@code c}. */
  public static HazelcastClusterManager clusterManager(Cluster c) {
    return new HazelcastClusterManager(hazelcastConfig(c, false));
  }

  /**
   * Starts a clustered Vert.x on {@code manager}, with the event bus on the configured host and port. Once it has
   * started, {@code manager.getHazelcastInstance()} is the member the cluster-wide stores use.
   */
  public static Future<Vertx> clusteredVertx(VertxOptions options, Cluster c, HazelcastClusterManager manager) {
    return clusteredVertx(options, c, manager, null);
  }

  /** As {@link #clusteredVertx(VertxOptions, Cluster, HazelcastClusterManager)}, on {@code transport} (null: Vert.x's choice). */
  public static Future<Vertx> clusteredVertx(VertxOptions options, Cluster c, HazelcastClusterManager manager,
      io.vertx.core.transport.Transport transport) {
    VertxOptions o = new VertxOptions(options).setEventBusOptions(new EventBusOptions(options.getEventBusOptions())
        .setHost(c.eventbusHost()).setPort(c.eventbusPort()));
    var builder = Vertx.builder().with(o).withClusterManager(manager);
    if (transport != null) {
      builder.withTransport(transport);
    }
    return builder.buildClustered();
  }
}
