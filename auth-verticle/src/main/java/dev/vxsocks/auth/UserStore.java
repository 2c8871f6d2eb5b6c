package dev.vxsocks.auth;

import dev.vxsocks.config.ProxyConfig.User;
import io.vertx.core.Future;

/**
 * Where users live. The single-node implementation is {@link InMemoryUserStore}; a cluster keeps them in a
 * cluster-wide map behind this same interface.
 */
public interface UserStore {

  /** The user called {@code name}, or a null result when there is none. */
  Future<User> find(String name);
}
