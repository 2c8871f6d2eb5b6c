package dev.vxsocks.auth.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import dev.vxsocks.auth.SessionLimiter;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Cluster-wide, exact session limits. Each limited key ({@code u:NAME}, {@code ip:ADDRESS}) is one entry of the
 * {@link HazelcastSetup#SESSIONS_MAP} map holding each member's count separately; a slot is taken by an entry
 * processor that checks the sum against the limit and increments this member's count in one atomic step on the
 * key's owner. Because shares are kept apart, a member that leaves or crashes can have its share removed (membership
 * listener, and a sweep at start-up for members that left while nobody was listening), which plain counters cannot.
 *
 * <p>Only keys with a limit are touched: with both limits at 0 a session costs no cluster call. Raising a limit from 0
 * counts the sessions opened from then on.
 *
 * <p>When the store does not answer within the store timeout (split, overload, shutting down), the policy decides:
 * refuse (default) fails the open, so the proxy answers {@code 0x01} and logs the auth failure at WARNING; allow
 * grants an uncounted lease and logs a warning. Established sessions are never affected; a release that fails is
 * logged and the slot stays counted until this member leaves the cluster. A slot granted after the timeout gave up
 * is given back as soon as the late answer arrives.
 */
public final class HazelcastSessionLimiter implements SessionLimiter {

  private static final Logger LOG = Logger.getLogger(HazelcastSessionLimiter.class.getName());

  /** The keys a lease holds; null when that limit was off or not counted (allow policy while unreachable). */
  private record Held(String userKey, String ipKey) {
  }

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final IMap<String, HashMap<String, Integer>> map;
  private final String member;
  private final boolean refuseWhenUnreachable;
  private final long timeoutMs;
  private final Map<String, Held> leases = new ConcurrentHashMap<>();
  private final Map<String, Integer> lastSeen = new ConcurrentHashMap<>();
  private final AtomicLong next = new AtomicLong();
  private UUID listenerId;

  public HazelcastSessionLimiter(Vertx vertx, HazelcastInstance hz, ProxyConfig.Cluster cluster) {
    this(vertx, hz, cluster.refuseWhenUnreachable(), cluster.storeTimeout());
  }

  public HazelcastSessionLimiter(Vertx vertx, HazelcastInstance hz, boolean refuseWhenUnreachable, Duration timeout) {
    this.vertx = vertx;
    this.hz = hz;
    this.map = hz.getMap(HazelcastSetup.SESSIONS_MAP);
    this.member = hz.getCluster().getLocalMember().getUuid().toString();
    this.refuseWhenUnreachable = refuseWhenUnreachable;
    this.timeoutMs = timeout.toMillis();
  }

  /** Listens for members leaving and removes the share of members already gone. Blocking: call off the event loop. */
  public HazelcastSessionLimiter start() {
    listenerId = hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        String gone = event.getMember().getUuid().toString();
        vertx.executeBlocking(() -> dropMembers(Set.of(gone)), false)
            .onFailure(err -> LOG.warning("sessions: could not drop the share of departed member " + gone + ": " + err));
      }
    });
    sweep();
    return this;
  }

  /**
   * Removes the share of every member that is no longer in the cluster. The member ids are read from the entries
   * before the membership is read: an id seen in an entry belongs to a member that had joined by then, so if the
   * membership read afterwards lacks it, that member is gone for good (ids are never reused).
   */
  int sweep() {
    Set<String> seen = new HashSet<>();
    for (HashMap<String, Integer> shares : map.values()) {
      seen.addAll(shares.keySet());
    }
    for (Member m : hz.getCluster().getMembers()) {
      seen.remove(m.getUuid().toString());
    }
    if (!seen.isEmpty()) {
      LOG.info("sessions: removing the share of departed members " + seen);
      dropMembers(seen);
    }
    return seen.size();
  }

  private int dropMembers(Set<String> gone) {
    map.executeOnEntries(new DropMembers(gone));
    return gone.size();
  }

  public void stop() {
    if (listenerId != null) {
      hz.getCluster().removeMembershipListener(listenerId);
    }
  }

  @Override
  public Future<String> open(String user, String clientIp, int perUserLimit, int perClientIpLimit) {
    String userKey = user != null && perUserLimit > 0 ? "u:" + user : null;
    String ipKey = perClientIpLimit > 0 ? "ip:" + clientIp : null;
    // Both checks run at once (one round trip of latency, not two); a slot taken by one is given back when the
    // other refuses or fails, so a session holds both slots or neither.
    Future<Boolean> userSlot = acquire(userKey, perUserLimit);
    Future<Boolean> ipSlot = acquire(ipKey, perClientIpLimit);
    return Future.join(userSlot, ipSlot).transform(done -> {
      boolean userOk = userSlot.succeeded() && userSlot.result();
      boolean ipOk = ipSlot.succeeded() && ipSlot.result();
      if (userOk && ipOk) {
        return Future.succeededFuture(lease(new Held(userKey, ipKey)));
      }
      if (userOk) {
        release(userKey);
      }
      if (ipOk) {
        release(ipKey);
      }
      if (userSlot.succeeded() && ipSlot.succeeded()) {
        return Future.succeededFuture((String) null);
      }
      Throwable err = userSlot.failed() ? userSlot.cause() : ipSlot.cause();
      if (refuseWhenUnreachable) {
        return Future.failedFuture(new IllegalStateException("cluster session store unreachable, new session refused"
            + " (cluster.store-unreachable: refuse): " + err, err));
      }
      LOG.warning("sessions: cluster session store unreachable, session allowed uncounted"
          + " (cluster.store-unreachable: allow): " + err);
      return Future.succeededFuture(lease(new Held(null, null)));
    });
  }

  private String lease(Held held) {
    String id = Long.toString(next.incrementAndGet());
    leases.put(id, held);
    return id;
  }

  private Future<Boolean> acquire(String key, int limit) {
    if (key == null) {
      return Future.succeededFuture(true);
    }
    Future<Integer> raw = submit(key, new Acquire(member, limit));
    Future<Integer> timed = raw.timeout(timeoutMs, TimeUnit.MILLISECONDS);
    // A slot granted after we stopped waiting has no lease to give it back: give it back now.
    timed.onFailure(gaveUp -> raw.onSuccess(late -> {
      if (late > 0) {
        release(key);
      }
    }));
    return timed.map(result -> {
      lastSeen.put(key, Math.abs(result));
      return result > 0;
    });
  }

  private void release(String key) {
    if (key == null) {
      return;
    }
    call(key, new Release(member)).onComplete(ar -> {
      if (ar.succeeded()) {
        lastSeen.put(key, ar.result());
      } else {
        LOG.warning("sessions: could not release a slot of " + key + " (it stays counted until this member leaves): "
            + ar.cause());
      }
    });
  }

  private Future<Integer> call(String key, EntryProcessor<String, HashMap<String, Integer>, Integer> processor) {
    return submit(key, processor).timeout(timeoutMs, TimeUnit.MILLISECONDS);
  }

  private Future<Integer> submit(String key, EntryProcessor<String, HashMap<String, Integer>, Integer> processor) {
    try {
      return Future.fromCompletionStage(map.submitToKey(key, processor), vertx.getOrCreateContext());
    } catch (RuntimeException notActive) {
      return Future.failedFuture(notActive);
    }
  }

  @Override
  public void close(String lease) {
    Held held = lease == null ? null : leases.remove(lease);
    if (held != null) {
      release(held.userKey());
      release(held.ipKey());
    }
  }

  /** The cluster-wide count this node saw last for {@code user} (exact right after an open or close here). */
  @Override
  public int countForUser(String user) {
    return lastSeen.getOrDefault("u:" + user, 0);
  }

  @Override
  public int countForClientIp(String clientIp) {
    return lastSeen.getOrDefault("ip:" + clientIp, 0);
  }

  /** Sum of every member's count; blocking (tests and diagnostics). */
  public int clusterCount(String key) {
    HashMap<String, Integer> shares = map.get(key);
    return shares == null ? 0 : shares.values().stream().mapToInt(Integer::intValue).sum();
  }

  static int sum(HashMap<String, Integer> shares) {
    return shares == null ? 0 : shares.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Takes a slot for {@code member} if the sum is under {@code limit}: the new sum if granted, minus the sum if not. */
  static final class Acquire implements EntryProcessor<String, HashMap<String, Integer>, Integer> {
    private static final long serialVersionUID = 1L;
    private final String member;
    private final int limit;

    Acquire(String member, int limit) {
      this.member = member;
      this.limit = limit;
    }

    @Override
    public Integer process(Map.Entry<String, HashMap<String, Integer>> entry) {
      HashMap<String, Integer> shares = entry.getValue() == null ? new HashMap<>() : entry.getValue();
      int total = sum(shares);
      if (total >= limit) {
        return -total;
      }
      shares.merge(member, 1, Integer::sum);
      entry.setValue(shares);
      return total + 1;
    }
  }

  /** Gives one of {@code member}'s slots back; returns the new sum. An entry with no share left is removed. */
  static final class Release implements EntryProcessor<String, HashMap<String, Integer>, Integer> {
    private static final long serialVersionUID = 1L;
    private final String member;

    Release(String member) {
      this.member = member;
    }

    @Override
    public Integer process(Map.Entry<String, HashMap<String, Integer>> entry) {
      HashMap<String, Integer> shares = entry.getValue();
      if (shares == null || !shares.containsKey(member)) {
        return sum(shares);
      }
      shares.computeIfPresent(member, (k, v) -> v <= 1 ? null : v - 1);
      entry.setValue(shares.isEmpty() ? null : shares);
      return sum(shares);
    }
  }

  /** Removes the shares of members that left the cluster. */
  static final class DropMembers implements EntryProcessor<String, HashMap<String, Integer>, Integer> {
    private static final long serialVersionUID = 1L;
    private final HashSet<String> gone;

    DropMembers(Set<String> gone) {
      this.gone = new HashSet<>(gone);
    }

    @Override
    public Integer process(Map.Entry<String, HashMap<String, Integer>> entry) {
      HashMap<String, Integer> shares = entry.getValue();
      if (shares == null || !shares.keySet().removeAll(gone)) {
        return 0;
      }
      entry.setValue(shares.isEmpty() ? null : shares);
      return 1;
    }
  }
}
