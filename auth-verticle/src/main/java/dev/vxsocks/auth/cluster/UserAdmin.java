package dev.vxsocks.auth.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig.User;
import dev.vxsocks.config.cluster.HazelcastSetup;

import java.util.List;
import java.util.TreeMap;

/**
 * Changes to the users of a running cluster, as made by the {@code user} command (which joins the cluster briefly
 * as a Hazelcast lite member). Every change is one map operation; the nodes' entry listeners do the rest.
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

  /** Writes {@code user} as given (used by {@code config apply}); true when something changed. */
  public boolean put(User user) {
    String value = HazelcastUserStore.encode(user);
    return !value.equals(map.put(user.name(), value));
  }

  public List<User> list() {
    TreeMap<String, String> sorted = new TreeMap<>(map);
    return sorted.entrySet().stream().map(e -> HazelcastUserStore.decode(e.getKey(), e.getValue())).toList();
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
