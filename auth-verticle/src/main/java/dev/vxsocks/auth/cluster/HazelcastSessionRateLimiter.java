package dev.vxsocks.auth.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import dev.vxsocks.auth.Gcra;
import dev.vxsocks.auth.SessionRateLimiter;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Cluster-wide new-session rate limits: one {@link Gcra} state per limited key ({@code u:NAME}, {@code ip:ADDRESS})
 * in the {@link HazelcastSetup#RATES_MAP} map, taken by an entry processor on the key's owner, so every node draws
 * from the same bucket and the count is as exact as on a single node. The processor's clock is the cluster time of
 * the node that asks (Hazelcast's clock, the same on every member up to its sync error), sent with the call, so the
 * decision does not depend on which member owns the key.
 *
 * <p>What it costs: with both limits at 0, nothing (no call, no state). With a limit on, one call per limited key per
 * session let through, both keys at once. A refusal says how long the bucket stays empty, and this node refuses that
 * key locally until then, so a client over its rate costs about one call per node per token interval ({@code 1 s /
 * limit}) however fast it tries. A session refused by one key gives the other key's token back (one more call).
 *
 * <p>The map keeps no backup ({@link HazelcastSetup}): a member that leaves takes the states of the keys it owned
 * with it, and those keys start again from a full bucket (at most one extra burst of {@code limit} each). Entries
 * carry a time-to-live of their remaining state (at most a second) plus a second, which Hazelcast rounds up to whole
 * seconds: a key expires about two seconds after its last session (Hazelcast removes expired entries when they are
 * read, and in a background sweep). When the store does not answer within the store timeout, the policy of
 * {@code cluster.store-unreachable} decides, as for the session limits: refuse (the open fails, {@code 0x01}) or
 * allow (let through uncounted, with a warning).
 *
 * <p>The entry processors at the end run on the key's owner and travel there by class name, so they stay nested
 * here (see {@link HazelcastSessionLimiter}).
 */
public final class HazelcastSessionRateLimiter implements SessionRateLimiter {

  private static final Logger LOG = Logger.getLogger(HazelcastSessionRateLimiter.class.getName());
  private static final Future<Outcome> LET_THROUGH = Future.succeededFuture(Outcome.LET_THROUGH);
  private static final Future<Long> NO_CALL = Future.succeededFuture(0L);
  private static final long SWEEP_NS = 1_000_000_000L;

  private final Vertx vertx;
  private final IMap<String, Long> map;
  private final boolean refuseWhenUnreachable;
  private final long timeoutMs;
  /** The cluster time in nanoseconds: what every member's decisions are made on. */
  private final LongSupplier clusterNanos;
  /** Keys this node knows to be empty, until when ({@code System.nanoTime()}). */
  private final Map<String, Long> emptyUntil = new ConcurrentHashMap<>();
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong nextSweep = new AtomicLong(System.nanoTime() + SWEEP_NS);

  public HazelcastSessionRateLimiter(Vertx vertx, HazelcastInstance hz, ProxyConfig.Cluster cluster) {
    this(vertx, hz, cluster.refuseWhenUnreachable(), cluster.storeTimeout());
  }

  public HazelcastSessionRateLimiter(Vertx vertx, HazelcastInstance hz, boolean refuseWhenUnreachable, Duration timeout) {
    this(vertx, hz, refuseWhenUnreachable, timeout,
        () -> TimeUnit.MILLISECONDS.toNanos(hz.getCluster().getClusterTime()));
  }

  /** With {@code clusterNanos} for the cluster time (tests stop it). */
  HazelcastSessionRateLimiter(Vertx vertx, HazelcastInstance hz, boolean refuseWhenUnreachable, Duration timeout,
      LongSupplier clusterNanos) {
    this.vertx = vertx;
    this.map = hz.getMap(HazelcastSetup.RATES_MAP);
    this.refuseWhenUnreachable = refuseWhenUnreachable;
    this.timeoutMs = timeout.toMillis();
    this.clusterNanos = clusterNanos;
  }

  @Override
  public Future<Outcome> take(String user, String clientIp, int perUserPerSecond, int perClientIpPerSecond) {
    String userKey = user != null && perUserPerSecond > 0 ? "u:" + user : null;
    String ipKey = perClientIpPerSecond > 0 ? "ip:" + clientIp : null;
    if (userKey == null && ipKey == null) {
      return LET_THROUGH;
    }
    long asked = System.nanoTime();
    sweep(asked);
    if (knownEmpty(userKey, asked)) {
      return Future.succeededFuture(Outcome.PER_USER);
    }
    if (knownEmpty(ipKey, asked)) {
      return Future.succeededFuture(Outcome.PER_CLIENT_IP);
    }
    long now;
    try {
      now = clusterNanos.getAsLong();
    } catch (RuntimeException notActive) {
      return unreachable(notActive);
    }
    Future<Long> userWait = call(userKey, now, perUserPerSecond);
    Future<Long> ipWait = call(ipKey, now, perClientIpPerSecond);
    return Future.join(userWait, ipWait).transform(done -> {
      boolean userOk = userWait.succeeded() && userWait.result() == 0;
      boolean ipOk = ipWait.succeeded() && ipWait.result() == 0;
      if (userOk && ipOk) {
        return LET_THROUGH;
      }
      boolean userRefused = remember(userKey, userWait, asked);
      boolean ipRefused = remember(ipKey, ipWait, asked);
      if (userRefused || ipRefused || refuseWhenUnreachable) {
        // Refused (an answer wins over the other key's failure), or failed under the refuse policy.
        giveBackIf(userOk, userKey, now, perUserPerSecond);
        giveBackIf(ipOk, ipKey, now, perClientIpPerSecond);
      }
      if (userRefused) {
        return Future.succeededFuture(Outcome.PER_USER);
      }
      if (ipRefused) {
        return Future.succeededFuture(Outcome.PER_CLIENT_IP);
      }
      return unreachable(userWait.failed() ? userWait.cause() : ipWait.cause());
    });
  }

  /** What {@code cluster.store-unreachable} says: refuse (the open fails, {@code 0x01}) or let through uncounted. */
  private Future<Outcome> unreachable(Throwable err) {
    if (!refuseWhenUnreachable) {
      LOG.warning("rates: cluster session store unreachable, session let through uncounted"
          + " (cluster.store-unreachable: allow): " + err);
      return LET_THROUGH;
    }
    return Future.failedFuture(new IllegalStateException("cluster session store unreachable (rate limits), new"
        + " session refused (cluster.store-unreachable: refuse): " + err, err));
  }

  private boolean knownEmpty(String key, long asked) {
    Long until = key == null ? null : emptyUntil.get(key);
    return until != null && until - asked > 0;
  }

  /** True when the key's owner refused: the key is then empty until the wait it answered, and refused here till then. */
  private boolean remember(String key, Future<Long> wait, long asked) {
    if (key != null && wait.succeeded() && wait.result() > 0) {
      emptyUntil.put(key, asked + wait.result());
      return true;
    }
    return false;
  }

  private void sweep(long asked) {
    long due = nextSweep.get();
    if (asked - due >= 0 && nextSweep.compareAndSet(due, asked + SWEEP_NS)) {
      emptyUntil.values().removeIf(until -> until - asked <= 0);
    }
  }

  /** The wait the key's owner answered (0: a token was taken), or a failure after the store timeout. */
  private Future<Long> call(String key, long now, int perSecond) {
    if (key == null) {
      return NO_CALL;
    }
    calls.incrementAndGet();
    Future<Long> raw;
    try {
      raw = HazelcastCalls.onContext(map.submitToKey(key, new Take(now, perSecond)), vertx.getOrCreateContext());
    } catch (RuntimeException notActive) {
      return Future.failedFuture(notActive);
    }
    Future<Long> timed = raw.timeout(timeoutMs, TimeUnit.MILLISECONDS);
    // A token taken after we stopped waiting belongs to no session: give it back.
    timed.onFailure(gaveUp -> raw.onSuccess(late -> giveBackIf(late == 0, key, now, perSecond)));
    return timed;
  }

  private void giveBackIf(boolean taken, String key, long now, int perSecond) {
    if (!taken || key == null) {
      return;
    }
    calls.incrementAndGet();
    try {
      map.submitToKey(key, new GiveBack(now, perSecond)).whenCompleteAsync((v, err) -> {
        if (err != null) {
          LOG.fine(() -> "rates: could not give a token of " + key + " back: " + err);
        }
      }, HazelcastCalls.IN_PLACE);
    } catch (RuntimeException notActive) {
      LOG.fine(() -> "rates: could not give a token of " + key + " back: " + notActive);
    }
  }

  /** Entry-processor calls this node has sent (tests and diagnostics: a limit at 0 sends none). */
  public long clusterCalls() {
    return calls.get();
  }

  /** Keys this node refuses locally for now (their bucket is known to be empty). */
  @Override
  public int keysHeld() {
    return emptyUntil.size();
  }

  /** Entries of the cluster-wide map (tests and diagnostics: keys expire). */
  public int clusterKeys() {
    return map.size();
  }

  /**
   * Sets a state with a time-to-live of its remaining time plus a second (for the members' clocks, and for a
   * caller's call that arrives late), after which the key is as if never seen.
   */
  static void store(Map.Entry<String, Long> entry, Long tat, long now) {
    if (tat == null) {
      entry.setValue(null);
    } else if (entry instanceof ExtendedMapEntry<String, Long> extended) {
      extended.setValue(tat, TimeUnit.NANOSECONDS.toMillis(Math.max(0, tat - now)) + 1000, TimeUnit.MILLISECONDS);
    } else {
      entry.setValue(tat);
    }
  }

  /** Takes a token at {@code now} (the asking node's cluster time, ns): 0, or how long (ns) the key stays empty. */
  static final class Take implements EntryProcessor<String, Long, Long> {
    private static final long serialVersionUID = 1L;
    private final long now;
    private final int perSecond;

    Take(long now, int perSecond) {
      this.now = now;
      this.perSecond = perSecond;
    }

    @Override
    public Long process(Map.Entry<String, Long> entry) {
      Long tat = entry.getValue();
      long wait = Gcra.wait(tat, now, perSecond);
      if (wait > 0) {
        return wait;
      }
      store(entry, Gcra.take(tat, now, perSecond), now);
      return 0L;
    }

    /** No backup: the map has none (a lost state is a full bucket again). */
    @Override
    public EntryProcessor<String, Long, Long> getBackupProcessor() {
      return null;
    }
  }

  /** Gives back a token taken at {@code now} for a session the other limit refused. */
  static final class GiveBack implements EntryProcessor<String, Long, Long> {
    private static final long serialVersionUID = 1L;
    private final long now;
    private final int perSecond;

    GiveBack(long now, int perSecond) {
      this.now = now;
      this.perSecond = perSecond;
    }

    @Override
    public Long process(Map.Entry<String, Long> entry) {
      Long tat = entry.getValue();
      if (tat != null) {
        store(entry, Gcra.giveBack(tat, now, perSecond), now);
      }
      return 0L;
    }

    @Override
    public EntryProcessor<String, Long, Long> getBackupProcessor() {
      return null;
    }
  }
}
