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
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayDeque;
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
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Cluster-wide, exact session limits, with leases. Each limited key ({@code u:NAME}, {@code ip:ADDRESS}) is one
 * entry of the {@link HazelcastSetup#SESSIONS_MAP} map holding each member's share separately: the slots that member
 * has leased. A member leases a block of slots by an entry processor that grants at most what keeps the sum within the
 * limit, in one atomic step on the key's owner, and then admits sessions from its lease without a cluster call; so the
 * sessions open on all members never exceed the sum of the shares, which never exceeds the limit. Because shares are
 * kept apart, a member that leaves or crashes can have its share, its whole lease, removed (membership listener, and a
 * sweep at start-up for members that left while nobody was listening), which plain counters cannot.
 *
 * <p>How much is leased (docs/ARCHITECTURE.md, "Session limits in a cluster"): a block is this member's fair part of
 * what was free at its last answer (half of it split between the members), between 1 and {@link #MAX_BLOCK}; opens
 * waiting meanwhile share one call per key. Slots that stayed spare for a whole {@link #TRIM_MS} period go back. Near
 * the limit (a fair block of one slot, so always under a limit below four slots per member) a member keeps no spare
 * slot at all: each slot is leased for one session and given back when it ends, as without leases, so any member can
 * reach the limit while the others' sessions leave room. What an operator trades: far from the limit, up to a block
 * of a key's slots may sit unused on another member for up to two trim periods, and a dead member's lease stays
 * counted until the cluster removes it (as its sessions did before).
 *
 * <p>A split brain: each side drops the other side's shares and goes on counting alone (so each side may admit up to
 * the limit on its own while split). When the sides merge, Hazelcast moves the members of one side into the other
 * under new member ids and offers their entries to the other side's; the map's merge policy discards them
 * ({@code DiscardMergePolicy}, {@link HazelcastSetup}), so the surviving side's entries stay exact for its own members.
 * Each member therefore keeps its own record of the slots it holds ({@code slots}: per key, its lease: slots granted
 * and not given back), and a member that went through a merge puts that record back under its new id once its calls in
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
 * then set from its own record, which no longer has the slot). Slots granted after the timeout gave up are
 * spare slots of the lease (given back at once near the limit, else by the next trims).
 *
 * <p>Longer than our other classes for a reason: the entry processors at the end run on the key's owner and travel
 * there by class name, so they stay nested here (a new name would fail on an older member during a rolling
 * upgrade), and the merge restore shares the gate and the record with every open and close.
 */
public final class HazelcastSessionLimiter implements SessionLimiter {

  private static final Logger LOG = Logger.getLogger(HazelcastSessionLimiter.class.getName());

  /** The most slots of one key a member leases in one call (and so the most it can hold spare after a trim). */
  static final int MAX_BLOCK = 128;
  /** How often a lease's slots unused since the last trim go back ({@link #trim}). */
  static final long TRIM_MS = 250;
  private static final Future<Boolean> TRUE = Future.succeededFuture(true);

  /**
   * This member's lease of one key, guarded by {@code lock}: {@code share} is its share in the map as its own calls
   * left it (what a restore puts back), {@code used} the sessions open here on it ({@code used <= share} but while a
   * lowered limit's spare slots are on their way back), {@code lowWater} the fewest spare slots since the last trim,
   * {@code returning} slots taken off the share for a return not sent yet,
   * {@code lastTotal} the sum every member holds as the last answer said, {@code waiting} the opens waiting for
   * the lease call in flight ({@code leasing}).
   */
  private static final class Slots {
    int share;
    int used;
    int lowWater;
    int limit;
    int lastTotal;
    /** Slots taken off {@code share} to be given back, whose call has not been sent yet (it may wait at the gate). */
    int returning;
    boolean leasing;
    final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
  }

  /** An open waiting for a lease; settled once, on the context it was asked from. */
  private final class Waiter {
    final Context context;
    final Promise<Boolean> promise = Promise.promise();
    volatile long timer = -1;

    Waiter(Context context) {
      this.context = context;
    }

    void settle(boolean granted, Throwable err) {
      vertx.cancelTimer(timer);
      context.runOnContext(v -> {
        if (err != null) {
          promise.fail(err);
        } else {
          promise.complete(granted);
        }
      });
    }
  }

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
  private final AtomicLong calls = new AtomicLong();
  private UUID listenerId;
  private UUID lifecycleId;
  private long trimTimer = -1;

  // Guarded by lock: the slots this member holds per key (what its share must be), the calls sent and not answered,
  // and, while a merge is being repaired, the gate new calls wait at.
  private final Object lock = new Object();
  private final Map<String, Slots> slots = new HashMap<>();
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
    trimTimer = vertx.setPeriodic(TRIM_MS, t -> trim());
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
      snapshot = new HashMap<>();
      slots.forEach((key, s) -> {
        if (s.share + s.returning > 0) {
          snapshot.put(key, s.share + s.returning);
        }
      });
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
    vertx.cancelTimer(trimTimer);
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
    // Both slots at once (one round trip of latency, not two, when neither is in this member's lease); a slot
    // taken by one is given back when the other refuses or fails, so a session holds both slots or neither.
    Future<Boolean> userSlot = take(userKey, perUserLimit);
    Future<Boolean> ipSlot = take(ipKey, perClientIpLimit);
    if (userSlot.succeeded() && ipSlot.succeeded() && userSlot.result() && ipSlot.result()) {
      return Future.succeededFuture(lease(new Held(userKey, ipKey))); // both from the lease: no cluster call
    }
    return Future.join(userSlot, ipSlot).transform(done -> {
      boolean userOk = userSlot.succeeded() && userSlot.result();
      boolean ipOk = ipSlot.succeeded() && ipSlot.result();
      if (userOk && ipOk) {
        return Future.succeededFuture(lease(new Held(userKey, ipKey)));
      }
      if (userOk) {
        putBack(userKey);
      }
      if (ipOk) {
        putBack(ipKey);
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

  /**
   * One slot of {@code key} for a new session: from this member's lease when it has a spare slot (no cluster call),
   * else it waits for a lease call (one at a time per key: opens arriving meanwhile wait for the same call, which
   * asks for enough slots for all of them). True when granted, false when the limit is reached, failed when the
   * store did not answer within the store timeout.
   */
  private Future<Boolean> take(String key, int limit) {
    if (key == null) {
      return TRUE;
    }
    Waiter w;
    int want = 0;
    int lowered = 0;
    synchronized (lock) {
      Slots s = slots.computeIfAbsent(key, k -> new Slots());
      if (limit < s.limit && s.share > s.used && !s.leasing) {
        // A lowered limit (config apply): spare slots leased under the old one go back before any is used.
        lowered = release(s, s.share - s.used);
      }
      s.limit = limit;
      if (lowered == 0 && s.used < s.share && s.waiting.isEmpty()) {
        s.used++;
        s.lowWater = Math.min(s.lowWater, s.share - s.used);
        return TRUE;
      }
      w = new Waiter(vertx.getOrCreateContext());
      s.waiting.add(w);
      if (!s.leasing) {
        s.leasing = true;
        want = want(s);
      }
    }
    // Bounded like any store call; a lease that arrives after the timeout stays with this member as spare slots.
    w.timer = vertx.setTimer(timeoutMs, t -> {
      boolean mine;
      synchronized (lock) {
        Slots s = slots.get(key);
        mine = s != null && s.waiting.remove(w);
      }
      if (mine) {
        w.promise.fail(new TimeoutException("no answer from the cluster session store within "
            + timeoutMs + " ms"));
      }
    });
    if (lowered > 0) {
      giveBack(key, lowered);
    }
    if (want > 0) {
      askLease(key, want);
    }
    return w.promise.future();
  }

  /**
   * How many slots to ask for: this member's fair part of what was free at the last answer (a half of it split
   * between the members, so the others can lease as much), at least one and at most {@link #MAX_BLOCK}, and at least
   * the opens waiting. The key's owner grants at most what is free, so whatever is asked, the leases never add up to
   * more than the limit. Called with the lock held.
   */
  private int want(Slots s) {
    return Math.max(Math.min(block(s), MAX_BLOCK), Math.min(s.waiting.size(), MAX_BLOCK));
  }

  private int block(Slots s) {
    return Math.max(1, (s.limit - s.lastTotal) / (2 * members()));
  }

  private int members() {
    try {
      return Math.max(1, hz.getCluster().getMembers().size());
    } catch (RuntimeException notActive) {
      return 1; // the call that follows fails the same way, and the policy decides
    }
  }

  /**
   * Near the limit (a fair block of one slot) a member keeps no spare slot: each slot is leased for one session and
   * given back when it ends, exactly as without leases, so a small limit is reached through any node at once.
   */
  private boolean exact(Slots s) {
    return block(s) <= 1;
  }

  private void askLease(String key, int want) {
    CompletableFuture<Long> answer = new CompletableFuture<>();
    int limit;
    synchronized (lock) {
      limit = slots.get(key).limit;
    }
    send(key, id -> new Lease(id, want, limit), 0, answer);
    // On a Vert.x context, not the Hazelcast thread that answered: what follows may make another call, which
    // Hazelcast refuses on its own response and partition threads.
    Context context = vertx.getOrCreateContext();
    answer.whenCompleteAsync((packed, err) -> leased(key, packed, err), task -> context.runOnContext(v -> task.run()));
  }

  /**
   * A lease call answered (the grant is already in the share: {@link #settled}): hands the slots to the opens
   * waiting, asks again if some still wait and the last call was granted, refuses them if it was not, fails them if
   * the store failed; near the limit gives a spare slot straight back.
   */
  private void leased(String key, Long packed, Throwable err) {
    List<Waiter> granted = new ArrayList<>();
    List<Waiter> refused = new ArrayList<>();
    int again = 0;
    int giveBack = 0;
    synchronized (lock) {
      Slots s = slots.get(key);
      s.leasing = false;
      while (!s.waiting.isEmpty() && s.used < s.share) {
        s.used++;
        granted.add(s.waiting.poll());
      }
      s.lowWater = Math.min(s.lowWater, s.share - s.used);
      if (!s.waiting.isEmpty()) {
        if (err == null && grantOf(packed) > 0) {
          s.leasing = true;
          again = want(s);
        } else {
          refused.addAll(s.waiting);
          s.waiting.clear();
        }
      } else if (exact(s) && s.share > s.used) {
        giveBack = release(s, s.share - s.used);
      }
    }
    for (Waiter w : granted) {
      w.settle(true, null);
    }
    for (Waiter w : refused) {
      w.settle(false, err);
    }
    if (again > 0) {
      askLease(key, again);
    }
    if (giveBack > 0) {
      giveBack(key, giveBack);
    }
  }

  /**
   * A session's slot of {@code key} is free again: a session waiting for a lease takes it at once; else it becomes
   * a spare slot of the lease, given straight back near the limit ({@link #exact}), else kept until a trim finds it
   * unused.
   */
  private void putBack(String key) {
    if (key == null) {
      return;
    }
    Waiter next = null;
    int giveBack = 0;
    synchronized (lock) {
      Slots s = slots.get(key);
      if (s == null || s.used == 0) {
        return;
      }
      next = s.waiting.poll();
      if (next == null) {
        s.used--;
        if (exact(s)) {
          giveBack = release(s, s.share - s.used);
        }
      }
    }
    if (next != null) {
      next.settle(true, null);
    }
    if (giveBack > 0) {
      giveBack(key, giveBack);
    }
  }

  /**
   * Takes {@code n} spare slots off the lease at once, under the lock, so that no open can use them while their
   * return is on its way; until that call is sent they count as {@code returning}, which a restore puts back (the
   * return then takes them off the restored share). Returns {@code n}, for {@link #giveBack}.
   */
  private static int release(Slots s, int n) {
    s.share -= n;
    s.returning += n;
    s.lowWater = Math.min(s.lowWater, s.share - s.used);
    return n;
  }

  /** Sends the return of {@code n} slots of {@code key} already taken off the lease ({@link #release}). */
  private void giveBack(String key, int n) {
    CompletableFuture<Long> answer = new CompletableFuture<>();
    send(key, id -> new Return(id, n), n, answer);
    answer.whenComplete((total, err) -> {
      if (err != null) {
        LOG.warning("sessions: could not give " + n + " slots of " + key
            + " back (they stay counted until this member leaves or merges): " + err);
      }
    });
  }

  /**
   * Every {@link #TRIM_MS}: the slots of a lease that stayed spare for the whole period (its low-water mark) go
   * back to the shared count, so an idle lease empties within two periods and a busy one keeps only what it uses;
   * keys with nothing held or open are forgotten.
   */
  void trim() {
    Map<String, Integer> back = new HashMap<>();
    synchronized (lock) {
      for (var it = slots.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, Slots> e = it.next();
        Slots s = e.getValue();
        if (s.leasing || !s.waiting.isEmpty()) {
          continue;
        }
        int spare = Math.min(s.lowWater, s.share - s.used);
        if (spare > 0) {
          back.put(e.getKey(), release(s, spare));
        }
        s.lowWater = s.share - s.used;
        if (s.share == 0 && s.used == 0 && s.returning == 0) {
          it.remove();
        }
      }
    }
    back.forEach(this::giveBack);
  }

  /**
   * Sends the processor made for this member's id to the key's owner once no restore is pending. A lease's grant is
   * added to the key's share when its answer arrives (before the call stops counting as in flight); a return of
   * {@code giveBack} slots was taken off the share when decided ({@link #release}) and stops counting as
   * {@code returning} when it is sent. A return waiting at the gate is thus still in the record a restore puts back,
   * and takes its slots off the restored share afterwards. {@code result} completes on
   * the thread that answered (the callers' few lines only record the answer), with the packed answer of a lease or
   * the new sum of a return.
   */
  private void send(String key, Function<String, EntryProcessor<String, HashMap<String, Integer>, Long>> processor,
      int giveBack, CompletableFuture<Long> result) {
    CompletableFuture<Void> wait;
    synchronized (lock) {
      wait = gate;
      if (wait == null) {
        inFlight++;
        if (giveBack > 0) {
          Slots s = slots.get(key);
          if (s != null) {
            s.returning -= giveBack; // now in the map's hands: the call below takes them off this member's share
          }
        }
      }
    }
    if (wait != null) {
      wait.thenRun(() -> send(key, processor, giveBack, result));
      return;
    }
    calls.incrementAndGet();
    try {
      map.submitToKey(key, processor.apply(member)).whenCompleteAsync((answer, err) -> {
        settled(key, giveBack == 0 && answer != null ? grantOf(answer) : 0, answer);
        if (err != null) {
          result.completeExceptionally(err);
        } else {
          result.complete(answer);
        }
      }, HazelcastCalls.IN_PLACE);
    } catch (RuntimeException notActive) {
      settled(key, 0, null);
      result.completeExceptionally(notActive);
    }
  }

  private void settled(String key, int granted, Long answer) {
    CompletableFuture<Void> quiet = null;
    synchronized (lock) {
      Slots s = slots.computeIfAbsent(key, k -> new Slots());
      s.share += granted;
      if (answer != null) {
        s.lastTotal = totalOf(answer);
        lastSeen.put(key, s.lastTotal);
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
      putBack(h.userKey());
      putBack(h.ipKey());
    }
  }

  /**
   * The cluster-wide count (slots leased by every member, in use or spare) this node saw last for {@code user}:
   * when a lease is refused, it is at the limit.
   */
  @Override
  public int countForUser(String user) {
    return lastSeen.getOrDefault("u:" + user, 0);
  }

  @Override
  public int countForClientIp(String clientIp) {
    return lastSeen.getOrDefault("ip:" + clientIp, 0);
  }

  /** Sum of every member's leased slots; blocking (tests and diagnostics). */
  public int clusterCount(String key) {
    HashMap<String, Integer> shares = map.get(key);
    return sum(shares);
  }

  /** The slots this member holds of {@code key} (its lease: in use and spare), by its own record. */
  public int heldHere(String key) {
    synchronized (lock) {
      Slots s = slots.get(key);
      return s == null ? 0 : s.share;
    }
  }

  /** Entry-processor calls this member has sent for leases and returns (tests and diagnostics). */
  public long clusterCalls() {
    return calls.get();
  }

  /** The sessions open on this member holding a slot of {@code key}. */
  public int usedHere(String key) {
    synchronized (lock) {
      Slots s = slots.get(key);
      return s == null ? 0 : s.used;
    }
  }

  /** A lease answer: slots granted in the high half, the sum after the call in the low half. */
  static long pack(int granted, int total) {
    return ((long) granted << 32) | (total & 0xffffffffL);
  }

  static int grantOf(long packed) {
    return (int) (packed >> 32);
  }

  static int totalOf(long packed) {
    return (int) packed;
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
   * Leases up to {@code want} slots to {@code member}, as many as keep the sum within {@code limit}: the answer packs
   * the slots granted (0: the limit is reached) and the sum after the call ({@link #pack}).
   */
  static final class Lease implements EntryProcessor<String, HashMap<String, Integer>, Long> {
    private static final long serialVersionUID = 1L;
    private final String member;
    private final int want;
    private final int limit;

    Lease(String member, int want, int limit) {
      this.member = member;
      this.want = want;
      this.limit = limit;
    }

    @Override
    public Long process(Map.Entry<String, HashMap<String, Integer>> entry) {
      HashMap<String, Integer> shares = entry.getValue() == null ? new HashMap<>() : entry.getValue();
      int total = sum(shares);
      int granted = Math.min(want, limit - total);
      if (granted <= 0) {
        return pack(0, total);
      }
      shares.merge(member, granted, Integer::sum);
      entry.setValue(shares);
      return pack(granted, total + granted);
    }
  }

  /** Gives {@code count} of {@code member}'s leased slots back; returns the new sum. A share at 0 is removed. */
  static final class Return implements EntryProcessor<String, HashMap<String, Integer>, Long> {
    private static final long serialVersionUID = 1L;
    private final String member;
    private final int count;

    Return(String member, int count) {
      this.member = member;
      this.count = count;
    }

    @Override
    public Long process(Map.Entry<String, HashMap<String, Integer>> entry) {
      HashMap<String, Integer> shares = entry.getValue();
      if (shares == null || !shares.containsKey(member)) {
        return (long) sum(shares);
      }
      shares.computeIfPresent(member, (k, v) -> v <= count ? null : v - count);
      entry.setValue(shares.isEmpty() ? null : shares);
      return (long) sum(shares);
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
