package dev.vxsocks.auth;

import dev.vxsocks.config.ProxyConfig.User;
import io.vertx.core.Future;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/** Users of one node, seeded from the configuration file. Thread-safe. */
public final class InMemoryUserStore implements UserStore {

  private final Map<String, User> users = new ConcurrentHashMap<>();
  private final List<BiConsumer<String, Boolean>> listeners = new CopyOnWriteArrayList<>();

  public InMemoryUserStore(List<User> seed) {
    replaceAll(seed);
  }

  /**
   * Makes {@code next} the whole set of users (used when the configuration is reloaded). Listeners hear of every user
   * that changed, with {@code true} for a revocation (removed, disabled, new password).
   */
  public void replaceAll(List<User> next) {
    Map<String, User> fresh = new ConcurrentHashMap<>();
    next.forEach(u -> fresh.put(u.name(), u));
    Map<String, User> before = Map.copyOf(users);
    users.keySet().retainAll(fresh.keySet());
    users.putAll(fresh);
    before.forEach((name, old) -> {
      User now = fresh.get(name);
      boolean revoked = old.enabled() && (now == null || !now.enabled()
          || !Objects.equals(old.password().encoded(), now.password().encoded()));
      if (revoked || !old.equals(now)) {
        listeners.forEach(l -> l.accept(name, revoked));
      }
    });
  }

  @Override
  public void listen(BiConsumer<String, Boolean> listener) {
    listeners.add(listener);
  }

  @Override
  public Future<User> find(String name) {
    return Future.succeededFuture(users.get(name));
  }
}
