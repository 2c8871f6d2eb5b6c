package dev.vxsocks.auth.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent.LifecycleState;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import dev.vxsocks.auth.SessionLimiter;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Cluster-wide, exact session limits. Each limited key ({@code u:NAME}, {@code ip:ADDRESS}) is one entry of the
 * {@link HazelcastSetup#SESSIONS_MAP} map holding each member's count separately; a slot is taken by an entry
 * processor that checks the sum against the limit and increments this member's count in one atomic step on the
 * key's owner. Because shares are kept apart, a member that leaves or crashes can have its share removed (membership
 * listener, and a sweep at start-up for members that left while nobody was listening), which plain counters cannot.
 *
 * <p>A split brain: each side drops the other side's shares and goes on counting alone (so each side may admit up to
 * the limit on its own while split). When the sides merge, Hazelcast moves the members of one side into the other
 * under new member ids and offers their entries to the other side's; the map's merge policy discards them
 * ({@code DiscardMergePolicy}, {@link HazelcastSetup}), so the surviving side's entries stay exact for its own members.
 * Each member therefore keeps its own record of the slots it holds ({@code held}: per key, slots granted and not
 * given back), and a member that went through a merge puts that record back under its new id once its calls in
 * flight have settled ({@link #restore}): new calls wait meanwhile, so no grant or release crosses the restore. The
 * same record is what a merged member's count is rebuilt from, so a share dropped while a member was only
 * suspended (its heartbeats missed, then back) returns once that member has merged back.
 *
 * <p>Only keys with a limit are touched: with both limits at 0 a session costs no cluster call. Raising a limit from 0
 * counts the sessions opened from then on.
 *
 * <p>When the store does not answer within the store timeout (split, overload, shutting down), the policy decides:
 * refuse (default) fails the open, so the proxy answers {@code 0x01} and logs the auth failure at WARNING; allow
 * grants an uncounted lease and logs a warning. Established sessions are never affected; a release that fails is
 * logged and the slot stays counted until this member leaves the cluster or merges back after a split (its share is
 * then set from its own record, which no longer has the slot). A slot granted after the timeout gave up
 * is given back as soon as the late answer arrives.
 *
 * <p>Longer than our other classes for a reason: the entry processors at the end run on the key's owner and travel
 * there by class name, so they stay nested here (a new name would fail on an older member during a rolling
 * upgrade), and the merge restore shares the gate and the record with every open and close.
 */
public final class HazelcastSessionLimiter implements SessionLimiter {

  private static final Logger LOG = Logger.getLogger(HazelcastSessionLimiter.class.getName());

  /** The keys a lease holds; null when that limit was off or not counted (allow policy while unreachable). */
  private record Held(String userKey, String ipKey) {
  }

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final IMap<String, HashMap<String, Integer>> map;
  /** This member's id in the shares; a member gets a new one when it merges into another cluster. */
  private volatile String member;
  private final boolean refuseWhenUnreachable;
  private final long timeoutMs;
  private final Map<String, Held> leases = new ConcurrentHashMap<>();
  private final Map<String, Integer> lastSeen = new ConcurrentHashMap<>();
  private final AtomicLong next = new AtomicLong();
  private UUID listenerId;
  private UUID lifecycleId;

  // Guarded by lock: the slots this member holds per key (what its share must be), the calls sent and not answered,
  // and, while a merge is being repaired, the gate new calls wait at.
  private final Object lock = new Object();
  private final Map<String, Integer> held = new HashMap<>();
  private int inFlight;
  /** Non-null from a merge's start until this member's shares are back; new calls wait for it. */
  private CompletableFuture<Void> gate;
  /** Completed when the last call in flight is answered, while a restore waits for that. */
  private CompletableFuture<Void> drained;
  private boolean restoring;
  private boolean restoreAgain;
  private volatile boolean stopped;

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

  /**
   * Listens for members leaving and for merges, and removes the share of members already gone. Blocking: call off
   * the event loop.
   */
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
    lifecycleId = hz.getLifecycleService().addLifecycleListener(event -> {
      if (event.getState() == LifecycleState.MERGING) {
        closeGate();
      } else if (event.getState() == LifecycleState.MERGED || event.getState() == LifecycleState.MERGE_FAILED) {
        LOG.info("sessions: " + event.getState() + " (this member moved into another cluster): putting its share"
            + " back");
        restoreWhenQuiet();
      }
    });
    sweep();
    return this;
  }

  private void closeGate() {
    synchronized (lock) {
      if (gate == null) {
        gate = new CompletableFuture<>();
      }
    }
  }

  /** Closes the gate, waits for the calls in flight, then restores; a restore asked for while one runs runs again. */
  private void restoreWhenQuiet() {
    CompletableFuture<Void> quiet;
    synchronized (lock) {
      if (gate == null) {
        gate = new CompletableFuture<>();
      }
      if (restoring) {
        restoreAgain = true;
        return;
      }
      restoring = true;
      if (inFlight == 0) {
        quiet = CompletableFuture.completedFuture(null);
      } else {
        if (drained == null) {
          drained = new CompletableFuture<>();
        }
        quiet = drained;
      }
    }
    quiet.thenRun(() -> vertx.executeBlocking(this::restore, false).onComplete(ar -> {
      boolean retry = ar.failed() && running();
      boolean again;
      CompletableFuture<Void> open = null;
      synchronized (lock) {
        restoring = false;
        again = restoreAgain;
        restoreAgain = false;
        if (!retry && !again) {
          open = gate;
          gate = null;
        }
      }
      if (retry) {
        LOG.warning("sessions: could not put this member's share back after a merge (new sessions needing a limit"
            + " check wait, and time out, until it succeeds); retrying in 1 s: " + ar.cause());
        vertx.setTimer(1000, t -> restoreWhenQuiet());
      } else if (again) {
        restoreWhenQuiet();
      } else if (open != null) {
        open.complete(null);
      }
    }));
  }

  private boolean running() {
    return !stopped && hz.getLifecycleService().isRunning();
  }

  /**
   * Puts this member's share back after a merge, under its current id: for every key it holds slots of, its share
   * is set to the slots it holds (its previous id's share removed); then the shares of members no longer in the
   * cluster are swept. Runs with no call of this member in flight and new ones waiting. Blocking. Returns the number
   * of slots put back.
   */
  int restore() throws Exception {
    String before = member;
    String now = hz.getCluster().getLocalMember().getUuid().toString();
    member = now;
    Map<String, Integer> snapshot;
    synchronized (lock) {
      snapshot = new HashMap<>(held);
    }
    List<CompletableFuture<Integer>> sets = new ArrayList<>();
    for (Map.Entry<String, Integer> e : snapshot.entrySet()) {
      sets.add(map.submitToKey(e.getKey(), new SetShare(now, e.getValue(), before)).toCompletableFuture());
    }
    // Generous: the gate stays shut until this succeeds (a failure retries).
    CompletableFuture.allOf(sets.toArray(CompletableFuture[]::new)).get(Math.max(timeoutMs, 1000) * 5,
        TimeUnit.MILLISECONDS);
    int slots = snapshot.values().stream().mapToInt(Integer::intValue).sum();
    int swept = sweep();
    LOG.info("sessions: restored this member's share after a merge: " + slots + " slots of " + snapshot.size()
        + " keys (member id " + before + " -> " + now + "; shares of " + swept + " departed members removed)");
    return slots;
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
    stopped = true;
    if (listenerId != null) {
      hz.getCluster().removeMembershipListener(listenerId);
    }
    if (lifecycleId != null) {
      hz.getLifecycleService().removeLifecycleListener(lifecycleId);
    }
    CompletableFuture<Void> open;
    synchronized (lock) {
      open = gate;
      gate = null;
    }
    if (open != null) {
      open.complete(null);
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
    Future<Integer> raw = submit(key, id -> new Acquire(id, limit), true);
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
    submit(key, Release::new, false).timeout(timeoutMs, TimeUnit.MILLISECONDS).onComplete(ar -> {
      if (ar.succeeded()) {
        lastSeen.put(key, ar.result());
      } else {
        LOG.warning("sessions: could not release a slot of " + key
            + " (it stays counted until this member leaves or merges): " + ar.cause());
      }
    });
  }

  /**
   * Sends the processor made for this member's id to the key's owner once no restore is pending: an acquire's grant
   * is added to {@code held} when its answer arrives (before the call stops counting as in flight), a release is
   * taken off {@code held} when it is sent. A release waiting at the gate is thus still in the record a restore puts
   * back, and takes its slot off the restored share afterwards.
   */
  private Future<Integer> submit(String key,
      Function<String, EntryProcessor<String, HashMap<String, Integer>, Integer>> processor, boolean acquire) {
    CompletableFuture<Integer> result = new CompletableFuture<>();
    send(key, processor, acquire, result);
    return Future.fromCompletionStage(result, vertx.getOrCreateContext());
  }

  private void send(String key, Function<String, EntryProcessor<String, HashMap<String, Integer>, Integer>> processor,
      boolean acquire, CompletableFuture<Integer> result) {
    CompletableFuture<Void> wait;
    synchronized (lock) {
      wait = gate;
      if (wait == null) {
        inFlight++;
        if (!acquire) {
          held.computeIfPresent(key, (k, v) -> v <= 1 ? null : v - 1);
        }
      }
    }
    if (wait != null) {
      wait.thenRun(() -> send(key, processor, acquire, result));
      return;
    }
    try {
      map.submitToKey(key, processor.apply(member)).whenComplete((answer, err) -> {
        settled(key, acquire && answer != null && answer > 0);
        if (err != null) {
          result.completeExceptionally(err);
        } else {
          result.complete(answer);
        }
      });
    } catch (RuntimeException notActive) {
      settled(key, false);
      result.completeExceptionally(notActive);
    }
  }

  private void settled(String key, boolean granted) {
    CompletableFuture<Void> quiet = null;
    synchronized (lock) {
      if (granted) {
        held.merge(key, 1, Integer::sum);
      }
      if (--inFlight == 0 && drained != null) {
        quiet = drained;
        drained = null;
      }
    }
    if (quiet != null) {
      quiet.complete(null);
    }
  }

  @Override
  public void close(String lease) {
    Held h = lease == null ? null : leases.remove(lease);
    if (h != null) {
      release(h.userKey());
      release(h.ipKey());
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

  /** The slots this member holds of {@code key}, by its own record (tests and diagnostics). */
  public int heldHere(String key) {
    synchronized (lock) {
      return held.getOrDefault(key, 0);
    }
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

  /**
   * Sets {@code member}'s share to {@code count} (none when 0) and removes the share of {@code previous}, that
   * member's id before a merge gave it a new one; returns the new sum. Setting, not adding, makes it idempotent.
   */
  static final class SetShare implements EntryProcessor<String, HashMap<String, Integer>, Integer> {
    private static final long serialVersionUID = 1L;
    private final String member;
    private final int count;
    private final String previous;

    SetShare(String member, int count, String previous) {
      this.member = member;
      this.count = count;
      this.previous = previous;
    }

    @Override
    public Integer process(Map.Entry<String, HashMap<String, Integer>> entry) {
      HashMap<String, Integer> shares = entry.getValue() == null ? new HashMap<>() : entry.getValue();
      if (previous != null) {
        shares.remove(previous);
      }
      if (count > 0) {
        shares.put(member, count);
      } else {
        shares.remove(member);
      }
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
