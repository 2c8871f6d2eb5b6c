package dev.vxsocks.auth.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import com.hazelcast.map.MapEvent;
import dev.vxsocks.auth.UserStore;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig.User;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.logging.Logger;

/**
 * Users in the cluster-wide {@link HazelcastSetup#USERS_MAP} map (name → {@code {"password": hash, "enabled": bool}}).
 * Each node keeps a local copy fed by an entry listener, so a login never waits for the cluster and a change made on
 * any node (or by the {@code user} command) is effective on every node as soon as the event arrives (milliseconds on
 * a LAN). A change that revokes a user (disabled, removed, new password) is passed to the {@link #listen} listeners,
 * which close that user's sessions.
 *
 * <p>Seeding: at start-up the users of the node's configuration file are added only when absent from the map. A
 * change made at runtime (command line, {@code config apply}) therefore survives a node restart with an old file.
 */
public final class HazelcastUserStore implements UserStore {

  private static final Logger LOG = Logger.getLogger(HazelcastUserStore.class.getName());

  private final IMap<String, String> map;
  private final Map<String, User> local = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, Boolean>> listeners = new CopyOnWriteArrayList<>();
  private UUID listenerId;

  public HazelcastUserStore(HazelcastInstance hz) {
    this.map = hz.getMap(HazelcastSetup.USERS_MAP);
  }

  /** Map value for {@code user}. */
  public static String encode(User user) {
    return new JsonObject().put("password", user.password().encoded()).put("enabled", user.enabled()).encode();
  }

  public static User decode(String name, String value) {
    JsonObject json = new JsonObject(value);
    return new User(name, PasswordHash.parse("users." + name, json.getString("password")), json.getBoolean("enabled", true));
  }

  /**
   * Registers the entry listener, loads the current users and adds the {@code seed} users that are missing.
   * Blocking: call it off the event loop.
   */
  public HazelcastUserStore start(List<User> seed) {
    Listener listener = new Listener();
    listenerId = map.addEntryListener(listener, true);
    for (User u : seed) {
      if (map.putIfAbsent(u.name(), encode(u)) == null) {
        LOG.info("users: added " + u.name() + " from the configuration file");
      }
    }
    // Events that arrived while loading are newer than what we read: keep them.
    for (Map.Entry<String, String> e : map.entrySet()) {
      try {
        local.putIfAbsent(e.getKey(), decode(e.getKey(), e.getValue()));
      } catch (RuntimeException bad) {
        LOG.warning("users: ignoring unreadable entry for " + e.getKey() + ": " + bad.getMessage());
      }
    }
    return this;
  }

  public void stop() {
    if (listenerId != null) {
      map.removeEntryListener(listenerId);
    }
  }

  @Override
  public Future<User> find(String name) {
    return Future.succeededFuture(local.get(name));
  }

  @Override
  public void listen(BiConsumer<String, Boolean> listener) {
    listeners.add(listener);
  }

  private void changed(String name, String value) {
    User next = null;
    if (value != null) {
      try {
        next = decode(name, value);
      } catch (RuntimeException bad) {
        LOG.warning("users: unreadable entry for " + name + " (treated as removed): " + bad.getMessage());
      }
    }
    User before = next == null ? local.remove(name) : local.put(name, next);
    boolean revoked = before != null && before.enabled()
        && (next == null || !next.enabled() || !Objects.equals(before.password().encoded(), next.password().encoded()));
    for (BiConsumer<String, Boolean> l : listeners) {
      l.accept(name, revoked);
    }
  }

  private final class Listener implements EntryAddedListener<String, String>, EntryUpdatedListener<String, String>,
      EntryRemovedListener<String, String>, EntryMergedListener<String, String>, MapClearedListener {

    @Override
    public void entryAdded(EntryEvent<String, String> e) {
      changed(e.getKey(), e.getValue());
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> e) {
      changed(e.getKey(), e.getValue());
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> e) {
      changed(e.getKey(), null);
    }

    @Override
    public void entryMerged(EntryEvent<String, String> e) {
      changed(e.getKey(), e.getValue());
    }

    @Override
    public void mapCleared(MapEvent e) {
      for (String name : List.copyOf(local.keySet())) {
        changed(name, null);
      }
    }
  }
}
