package dev.vxsocks.auth.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig.User;
import dev.vxsocks.config.cluster.HazelcastSetup;

import java.util.List;
import java.util.Map;

/**
 * Changes to the users of a running cluster, as made by the {@code user} command and {@code config apply --users}
 * (which connect to the cluster briefly as a Hazelcast client). Every change is one map operation; the nodes' entry
 * listeners do the rest.
 */
public final class UserAdmin {

  private final IMap<String, String> map;

  public UserAdmin(HazelcastInstance hz) {
    this.map = hz.getMap(HazelcastSetup.USERS_MAP);
  }

  /** Adds a user; false when the name is taken. */
  public boolean add(String name, PasswordHash hash) {
    return map.putIfAbsent(name, HazelcastUserStore.encode(new User(name, hash, true))) == null;
  }

  /** Sets the password (keeps enabled/disabled); false when there is no such user. */
  public boolean passwd(String name, PasswordHash hash) {
    return update(name, u -> new User(name, hash, u.enabled()));
  }

  public boolean setEnabled(String name, boolean enabled) {
    return update(name, u -> new User(name, u.password(), enabled));
  }

  public boolean remove(String name) {
    return map.remove(name) != null;
  }

  /**
   * Makes one change of {@code config apply --users}: the file's entry replaces the cluster's, provided the cluster's
   * is still the one the change was worked out from. False when it changed meanwhile (then nothing is written).
   * A user only in the cluster is kept: returns false.
   */
  public boolean apply(UserChanges.Change change) {
    if (change.onlyInCluster()) {
      return false;
    }
    String next = HazelcastUserStore.encode(change.file());
    if (change.added()) {
      return map.putIfAbsent(change.name(), next) == null;
    }
    String old = map.get(change.name());
    return old != null && HazelcastUserStore.same(HazelcastUserStore.decode(change.name(), old), change.cluster())
        && map.replace(change.name(), old, next);
  }

  public List<User> list() {
    return List.copyOf(HazelcastUserStore.read(map).values());
  }

  /** The cluster's users now, by name (sorted); unreadable entries are left out. */
  public Map<String, User> users() {
    return HazelcastUserStore.read(map);
  }

  private boolean update(String name, java.util.function.UnaryOperator<User> change) {
    for (int attempt = 0; attempt < 10; attempt++) {
      String old = map.get(name);
      if (old == null) {
        return false;
      }
      String next = HazelcastUserStore.encode(change.apply(HazelcastUserStore.decode(name, old)));
      if (map.replace(name, old, next)) {
        return true;
      }
    }
    throw new IllegalStateException("user " + name + " kept changing under us; try again");
  }
}
