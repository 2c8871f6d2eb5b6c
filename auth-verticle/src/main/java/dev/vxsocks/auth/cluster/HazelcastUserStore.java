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
import java.util.TreeMap;
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
 * <p>Seeding: the users map is the one source of truth for users. The node that first starts a cluster (it claims
 * {@link SharedConfig#USERS_SEEDED} and finds the map empty) fills it from its configuration file; every later start
 * leaves the map alone and logs, one line per user, where its file differs. A user disabled, given a new password or
 * removed at runtime therefore stays so when a node (re)starts with an old file; only {@code config apply --users}
 * makes a file's users the cluster's (README, "Changing users and configuration of a running cluster").
 */
public final class HazelcastUserStore implements UserStore {

  private static final Logger LOG = Logger.getLogger(HazelcastUserStore.class.getName());

  private final HazelcastInstance hz;
  private final IMap<String, String> map;
  private final Map<String, User> local = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, Boolean>> listeners = new CopyOnWriteArrayList<>();
  private UUID listenerId;

  public HazelcastUserStore(HazelcastInstance hz) {
    this.hz = hz;
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
   * Registers the entry listener and loads the current users. {@code file} (the users of this node's configuration
   * file) fills the map only when this node is the first to start the cluster's users; otherwise each difference
   * between {@code file} and the map is logged and left as the map has it. Blocking: call it off the event loop.
   */
  public HazelcastUserStore start(List<User> file) {
    Listener listener = new Listener();
    listenerId = map.addEntryListener(listener, true);
    if (claimSeeding()) {
      if (map.isEmpty()) {
        for (User u : file) {
          map.putIfAbsent(u.name(), encode(u));
        }
        LOG.info("users: this node started the cluster's users with the " + file.size()
            + " users of its configuration file; from now on they change only through the user command and"
            + " config apply --users");
      } else {
        LOG.info("users: the cluster already holds " + map.size() + " users: the configuration file's are not added");
      }
    }
    // Events that arrived while loading are newer than what we read: keep them.
    Map<String, User> now = read(map);
    now.forEach(local::putIfAbsent);
    int onlyInCluster = 0;
    for (UserChanges.Change c : UserChanges.between(file, now)) {
      if (c.onlyInCluster()) {
        onlyInCluster++;
      } else {
        LOG.info("users: " + c.name() + ": " + c.difference() + ": left as the cluster has it (config apply --users"
            + " FILE applies the file's)");
      }
    }
    if (onlyInCluster > 0) {
      LOG.info("users: " + onlyInCluster + " users of the cluster are not in the configuration file (kept)");
    }
    return this;
  }

  /**
   * True for the one node that fills the users map: the first to put {@link SharedConfig#USERS_SEEDED}. A cluster
   * whose nodes all stopped has lost the map and the mark alike, so the first node started again fills it anew.
   */
  private boolean claimSeeding() {
    IMap<String, String> config = hz.getMap(HazelcastSetup.CONFIG_MAP);
    var self = hz.getCluster().getLocalMember().getAddress();
    String mark = new JsonObject().put("by", self.getHost() + ":" + self.getPort()).encode();
    return config.putIfAbsent(SharedConfig.USERS_SEEDED, mark) == null;
  }

  /** Every readable entry of {@code users}, by name (sorted); an unreadable one is logged and left out. */
  static Map<String, User> read(IMap<String, String> users) {
    Map<String, User> out = new TreeMap<>();
    for (Map.Entry<String, String> e : users.entrySet()) {
      try {
        out.put(e.getKey(), decode(e.getKey(), e.getValue()));
      } catch (RuntimeException bad) {
        LOG.warning("users: ignoring unreadable entry for " + e.getKey() + ": " + bad.getMessage());
      }
    }
    return out;
  }

  /** The same user entry: name, password hash and enabled flag. */
  static boolean same(User a, User b) {
    return a.name().equals(b.name()) && a.enabled() == b.enabled()
        && a.password().encoded().equals(b.password().encoded());
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
