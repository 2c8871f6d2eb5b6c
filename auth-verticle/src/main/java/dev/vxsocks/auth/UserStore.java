package dev.vxsocks.auth;

import dev.vxsocks.config.ProxyConfig.User;
import io.vertx.core.Future;

import java.util.function.BiConsumer;

/**
 * Where users live. The single-node implementation is {@link InMemoryUserStore}; a cluster keeps them in a
 * cluster-wide map behind this same interface.
 */
public interface UserStore {

  /** The user called {@code name}, or a null result when there is none. */
  Future<User> find(String name);

  /**
   * Registers {@code listener}, called with a user name whenever that user changes, and {@code true} when the change
   * revokes what was granted before (disabled, removed, new password). Stores that never change ignore it.
   */
  default void listen(BiConsumer<String, Boolean> listener) {
  }
}
