package dev.vxsocks.auth.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.vxsocks.auth.MemoSecret;
import dev.vxsocks.auth.StoredVerificationMemo;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The cluster-wide verification memo, in {@link HazelcastSetup#MEMO_MAP}: a password verified on any node is accepted
 * on every other one for the memo's lifetime at the cost of one map read and one HMAC, instead of the slow hash. So
 * after a failover the users of a dead node pay one map read each on the node they land on, not one slow hash each
 * (README, "Logins after a failover"). The entries are what {@link StoredVerificationMemo} says, with the lifetime
 * also set as Hazelcast's per-entry TTL; a read waits at most {@code cluster.store-timeout}, then the slow hash
 * decides.
 */
public final class HazelcastVerificationMemo extends StoredVerificationMemo {

  private static final Logger LOG = Logger.getLogger(HazelcastVerificationMemo.class.getName());

  private final Vertx vertx;
  private final IMap<String, String> map;
  private final long timeoutMillis;

  public HazelcastVerificationMemo(Vertx vertx, HazelcastInstance hz, MemoSecret secret, Duration ttl,
                                   Duration storeTimeout) {
    super(secret, ttl, System::currentTimeMillis);
    this.vertx = vertx;
    this.map = hz.getMap(HazelcastSetup.MEMO_MAP);
    this.timeoutMillis = storeTimeout.toMillis();
  }

  @Override
  protected Future<String> load(String key) {
    Context context = vertx.getOrCreateContext();
    return Future.fromCompletionStage(map.getAsync(key), context).timeout(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  @Override
  protected void store(String key, String value, long ttlMillis) {
    map.setAsync(key, value, ttlMillis, TimeUnit.MILLISECONDS).whenComplete((v, err) -> {
      if (err != null) {
        LOG.fine(() -> "memo: write failed: " + err);
      }
    });
  }

  @Override
  protected void delete(String key) {
    map.removeAsync(key).whenComplete((v, err) -> {
      if (err != null) {
        LOG.fine(() -> "memo: drop failed (the entry expires on its own): " + err);
      }
    });
  }
}
