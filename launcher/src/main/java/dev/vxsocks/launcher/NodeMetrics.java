package dev.vxsocks.launcher;

import com.hazelcast.core.HazelcastInstance;
import dev.vxsocks.proxy.ProxyMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The node's metrics registry, scraped at {@code GET /metrics} on the admin port in Prometheus' text format: the
 * proxy's own ({@link ProxyMetrics}), the node's (cluster members seen, the running configuration's version as an
 * info-style series), and Micrometer's JVM and process binders. Vert.x's own metrics SPI is not installed: it records on
 * every read and write of every socket, the per-byte path the proxy keeps free of recording.
 */
public final class NodeMetrics {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ProxyMetrics proxy;
  private Gauge configInfo;
  private volatile HazelcastInstance hz;

  public NodeMetrics() {
    // Two of Micrometer's process series break Prometheus' naming rules (promtool check metrics refuses an
    // abbreviated unit in process_cpu_time_ns_total and a _count suffix on the gauge system_cpu_count); the CPU
    // usage gauges say what operators read from them.
    registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
        || id.getName().equals("system.cpu.count")));
    // After the filter: Micrometer applies filters only to meters registered after them.
    proxy = new ProxyMetrics(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    // Keeps a GC notification listener for the life of the JVM; one registry per process, so never closed.
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    // A split shows as fewer members on each side; 0 once this node has left.
    Gauge.builder("vxsocks_cluster_members", this, NodeMetrics::members)
        .description("Members of the cluster this node sees (1 for a single node)").register(registry);
  }

  public ProxyMetrics proxy() {
    return proxy;
  }

  /** The cluster this node is a member of (a single node counts as a cluster of one). */
  void cluster(HazelcastInstance hz) {
    this.hz = hz;
  }

  private int members() {
    HazelcastInstance h = hz;
    if (h == null) {
      return 1;
    }
    return h.getLifecycleService().isRunning() ? h.getCluster().getMembers().size() : 0;
  }

  /**
   * The version of the configuration running now, as {@code vxsocks_config_version{version="..."} 1}: an info-style
   * series (not named {@code _info}: the Prometheus client takes that suffix off a gauge's name).
   */
  synchronized void configVersion(String version) {
    if (configInfo != null) {
      registry.remove(configInfo);
    }
    configInfo = Gauge.builder("vxsocks_config_version", () -> 1)
        .description("The running configuration's version (the value is always 1)")
        .tag("version", version == null ? "none" : version).register(registry);
  }

  /** The exposition, Prometheus text format. */
  String scrape() {
    return registry.scrape();
  }
}
