package dev.vxsocks.auth.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.replicatedmap.ReplicatedMap;
import dev.vxsocks.auth.MemoSecret;
import dev.vxsocks.auth.StoredVerificationMemo;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The cluster-wide verification memo, in the replicated map {@link HazelcastSetup#MEMO_MAP}: a password verified on
 * any node is accepted on every other one for the memo's lifetime at the cost of a local lookup and two HMACs, instead
 * of the slow hash (README, "Logins after a failover"). The entries are what {@link StoredVerificationMemo} says, with
 * the lifetime also set as Hazelcast's per-entry TTL.
 *
 * <p>Replicated, not partitioned: every member holds every entry, so a login reads its own member's copy and never
 * waits for another member, least of all for the one that just died (a partitioned map would make the reads of its
 * partitions wait until the others notice it is gone, which takes {@code hazelcast.max.no.heartbeat.seconds} when a
 * machine vanishes without closing its connections). Like the users map's local copy, a login never waits for the
 * network. Writes (after a slow hash, and a refresh per half lifetime) go to the key's owner and are replicated from
 * there; they run on a thread of their own, best effort: a write that cannot be queued is dropped, and the user pays
 * the slow hash on their next node.
 */
public final class HazelcastVerificationMemo extends StoredVerificationMemo {

  private static final Logger LOG = Logger.getLogger(HazelcastVerificationMemo.class.getName());
  /** Writes waiting for the writer thread; more are dropped (a storm of first logins, a member not answering). */
  private static final int WRITE_QUEUE = 4096;

  private final ReplicatedMap<String, String> map;
  private final ThreadPoolExecutor writer = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS,
      new ArrayBlockingQueue<>(WRITE_QUEUE), r -> {
        Thread t = new Thread(r, "vxsocks-memo-writer");
        t.setDaemon(true);
        return t;
      });

  public HazelcastVerificationMemo(HazelcastInstance hz, MemoSecret secret, Duration ttl) {
    super(secret, ttl, System::currentTimeMillis);
    this.map = hz.getReplicatedMap(HazelcastSetup.MEMO_MAP);
    writer.allowCoreThreadTimeOut(true);
  }

  /** This member's copy: never waits for the network. */
  @Override
  protected Future<String> load(String key) {
    return Future.succeededFuture(map.get(key));
  }

  @Override
  protected void store(String key, String value, long ttlMillis) {
    write(() -> map.put(key, value, ttlMillis, TimeUnit.MILLISECONDS));
  }

  @Override
  protected void delete(String key) {
    write(() -> map.remove(key));
  }

  private void write(Runnable op) {
    try {
      writer.execute(() -> {
        try {
          op.run();
        } catch (RuntimeException e) {
          LOG.fine(() -> "memo: write failed (a miss at worst: the slow hash decides): " + e);
        }
      });
    } catch (RejectedExecutionException full) {
      LOG.fine("memo: write queue full, write dropped");
    }
  }
}
