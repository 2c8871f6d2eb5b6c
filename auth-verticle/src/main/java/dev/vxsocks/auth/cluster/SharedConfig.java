package dev.vxsocks.auth.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import dev.vxsocks.config.ConfigLoader;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.BiConsumer;

/**
 * The configuration rolled out to the whole cluster ({@code config apply}), kept in {@link HazelcastSetup#CONFIG_MAP}
 * under {@link #CURRENT} as {@code {"version": ..., "config": {...}}}. The version is the first 12 hex digits of the
 * SHA-256 of the JSON document. Each node reports the version it runs under {@code running.<member id>}. The
 * map also holds {@link #USERS_SEEDED}.
 */
public final class SharedConfig {

  public static final String CURRENT = "current";
  /**
   * Put once, by the node that fills the users map from its file ({@link HazelcastUserStore#start}): its presence
   * means the cluster's users are the cluster's, and no node's file is added to them again.
   */
  public static final String USERS_SEEDED = "users.seeded";
  private static final String RUNNING_PREFIX = "running.";

  /** A validated configuration and its version. */
  public record Versioned(String version, ProxyConfig config) {
  }

  private final HazelcastInstance hz;
  private final IMap<String, String> map;
  private UUID listenerId;

  public SharedConfig(HazelcastInstance hz) {
    this.hz = hz;
    this.map = hz.getMap(HazelcastSetup.CONFIG_MAP);
  }

  public static String version(JsonObject json) {
    return ConfigLoader.version(json);
  }

  /**
   * Validates {@code json} (a {@link dev.vxsocks.config.ConfigException} leaves the cluster untouched) and publishes
   * it; returns its version. Blocking.
   */
  public String publish(JsonObject json) {
    ProxyConfig.fromJson(json.copy());
    String version = version(json);
    map.put(CURRENT, new JsonObject().put("version", version).put("config", json).encode());
    return version;
  }

  /** The configuration rolled out last, or null when none was. Blocking. */
  public Versioned current() {
    return parse(map.get(CURRENT));
  }

  private static Versioned parse(String value) {
    if (value == null) {
      return null;
    }
    JsonObject doc = new JsonObject(value);
    return new Versioned(doc.getString("version"), ProxyConfig.fromJson(doc.getJsonObject("config")));
  }

  /** Calls {@code onChange} with every configuration rolled out from now on. Blocking. */
  public void watch(BiConsumer<Versioned, RuntimeException> onChange) {
    class L implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String> {
      @Override
      public void entryAdded(EntryEvent<String, String> e) {
        deliver(e.getValue());
      }

      @Override
      public void entryUpdated(EntryEvent<String, String> e) {
        deliver(e.getValue());
      }

      private void deliver(String value) {
        try {
          onChange.accept(parse(value), null);
        } catch (RuntimeException bad) {
          onChange.accept(null, bad);
        }
      }
    }
    listenerId = map.addEntryListener(new L(), CURRENT, true);
  }

  public void stop() {
    if (listenerId != null) {
      map.removeEntryListener(listenerId);
    }
  }

  /** Records the version this member runs. Blocking. */
  public void reportRunning(String version) {
    map.put(RUNNING_PREFIX + hz.getCluster().getLocalMember().getUuid(), version);
  }

  /** Version run by each data member now in the cluster (member address → version, or "-" when none reported). */
  public Map<String, String> running() {
    Map<String, String> out = new TreeMap<>();
    for (Member m : hz.getCluster().getMembers()) {
      if (!m.isLiteMember()) {
        String v = map.get(RUNNING_PREFIX + m.getUuid());
        out.put(m.getAddress().getHost() + ":" + m.getAddress().getPort(), v == null ? "-" : v);
      }
    }
    return out;
  }

}
