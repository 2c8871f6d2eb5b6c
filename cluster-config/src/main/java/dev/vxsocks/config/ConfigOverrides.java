package dev.vxsocks.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Environment variables ({@code VXSOCKS_LIMITS_SESSIONS_PER_USER=10}) and system properties
 * ({@code -Dvxsocks.limits.sessions-per-user=10}) that override single settings of the file. Only the settings listed
 * in {@link #KEYS} can be overridden: lists of mappings (users, rules) belong in the file. An unknown
 * {@code VXSOCKS_*} variable or {@code vxsocks.*} property is an error, so a typo cannot go unnoticed.
 */
public final class ConfigOverrides {

  public static final String ENV_PREFIX = "VXSOCKS_";
  public static final String PROPERTY_PREFIX = "vxsocks.";
  /** Variables and properties with these names are read by the launcher, not merged into the settings. */
  private static final List<String> LAUNCHER_KEYS = List.of("config");

  /** Every setting that may be overridden; list-valued ones take a comma-separated value. */
  public static final List<String> KEYS = List.of(
      "listen.host", "listen.port", "listen.proxy-protocol-from", "listen.proxy-protocol-timeout",
      "auth.methods", "auth.allow-no-auth-off-loopback", "auth.verify-threads", "auth.verify-queue",
      "auth.throttle.failures-per-client-ip", "auth.throttle.failures-per-user-and-client-ip", "auth.throttle.window",
      "auth.throttle.backoff", "auth.throttle.backoff-max", "auth.throttle.hashes-per-user",
      "auth.gssapi.keytab", "auth.gssapi.principal", "auth.gssapi.protection", "auth.gssapi.realms",
      "auth.gssapi.other-principals",
      "timeouts.handshake", "timeouts.connect", "timeouts.idle", "timeouts.half-close", "timeouts.auth",
      "limits.sessions-per-user", "limits.sessions-per-client-ip", "limits.pending-handshakes",
      "limits.udp-associations-per-user", "limits.udp-associations-per-client-ip",
      "limits.new-sessions-per-second-per-user", "limits.new-sessions-per-second-per-client-ip",
      "limits.sessions-total", "limits.pending-handshakes-per-source", "limits.sessions-per-source",
      "limits.source-prefix-ipv4", "limits.source-prefix-ipv6",
      "bind.host", "bind.advertise", "bind.ports", "bind.accept-timeout",
      "udp.host", "udp.advertise", "udp.ports", "udp.idle-timeout",
      "cluster.enabled", "cluster.name", "cluster.join", "cluster.members", "cluster.host", "cluster.port",
      "cluster.eventbus-host", "cluster.eventbus-port", "cluster.join-wait", "cluster.store-unreachable",
      "cluster.store-timeout", "cluster.memo-secret-file", "cluster.memo-ttl",
      "admin.host", "admin.port", "drain.grace", "drain.timeout", "log.format");
  private static final List<String> LIST_KEYS = List.of("auth.methods", "cluster.members", "listen.proxy-protocol-from",
      "auth.gssapi.protection", "auth.gssapi.realms");

  private ConfigOverrides() {
  }

  /** Applies the overrides to {@code config} in place: environment first, then system properties (which win). */
  public static JsonObject apply(JsonObject config, Map<String, String> env, Map<String, String> properties) {
    return apply(config, env, properties, new java.util.HashMap<>());
  }

  /** As {@link #apply(JsonObject, Map, Map)}, recording in {@code sources} which variable or property set each key. */
  public static JsonObject apply(JsonObject config, Map<String, String> env, Map<String, String> properties,
                                 Map<String, String> sources) {
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      if (!e.getKey().startsWith(ENV_PREFIX)) {
        continue;
      }
      String name = e.getKey().substring(ENV_PREFIX.length());
      if (LAUNCHER_KEYS.contains(name.toLowerCase(Locale.ROOT))) {
        continue;
      }
      String key = KEYS.stream().filter(k -> envName(k).equals(name)).findFirst()
          .orElseThrow(() -> new ConfigException(e.getKey(), "is not a setting that can be overridden (known: "
              + String.join(", ", KEYS.stream().map(k -> ENV_PREFIX + envName(k)).toList()) + ")"));
      set(config, key, e.getValue());
      sources.put(key, e.getKey());
    }
    for (Map.Entry<String, String> e : new TreeMap<>(properties).entrySet()) {
      if (!e.getKey().startsWith(PROPERTY_PREFIX)) {
        continue;
      }
      String key = e.getKey().substring(PROPERTY_PREFIX.length());
      if (LAUNCHER_KEYS.contains(key)) {
        continue;
      }
      if (!KEYS.contains(key)) {
        throw new ConfigException(e.getKey(), "is not a setting that can be overridden (known: "
            + String.join(", ", KEYS.stream().map(k -> PROPERTY_PREFIX + k).toList()) + ")");
      }
      set(config, key, e.getValue());
      sources.put(key, "-D" + e.getKey());
    }
    return config;
  }

  static String envName(String key) {
    return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  private static void set(JsonObject config, String key, String value) {
    String[] path = key.split("\\.");
    JsonObject node = config;
    for (int i = 0; i < path.length - 1; i++) {
      Object child = node.getValue(path[i]);
      if (child == null) {
        child = new JsonObject();
        node.put(path[i], child);
      } else if (!(child instanceof JsonObject)) {
        // Leave the malformed value for validation to report; an override must not hide it.
        throw new ConfigException(path[i], "must be a mapping, got " + Section.describe(child));
      }
      node = (JsonObject) child;
    }
    String leaf = path[path.length - 1];
    if (LIST_KEYS.contains(key)) {
      JsonArray list = new JsonArray();
      for (String part : value.split(",")) {
        if (!part.isBlank()) {
          list.add(part.trim());
        }
      }
      node.put(leaf, list);
    } else {
      node.put(leaf, value.trim());
    }
  }
}
