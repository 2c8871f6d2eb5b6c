package dev.vxsocks.auth;

import dev.vxsocks.config.ProxyConfig.User;
import io.vertx.core.Future;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Users of one node, seeded from the configuration file. Thread-safe. */
public final class InMemoryUserStore implements UserStore {

  private final Map<String, User> users = new ConcurrentHashMap<>();

  public InMemoryUserStore(List<User> seed) {
    replaceAll(seed);
  }

  /** Makes {@code next} the whole set of users (used when the configuration is reloaded). */
  public void replaceAll(List<User> next) {
    Map<String, User> fresh = new ConcurrentHashMap<>();
    next.forEach(u -> fresh.put(u.name(), u));
    users.keySet().retainAll(fresh.keySet());
    users.putAll(fresh);
  }

  @Override
  public Future<User> find(String name) {
    return Future.succeededFuture(users.get(name));
  }
}
