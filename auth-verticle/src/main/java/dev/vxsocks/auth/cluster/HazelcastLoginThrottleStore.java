package dev.vxsocks.auth.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.ReadOnly;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import dev.vxsocks.auth.throttle.LoginRecord;
import dev.vxsocks.auth.throttle.LoginRecord.Outcome;
import dev.vxsocks.auth.throttle.LoginRecord.Rules;
import dev.vxsocks.auth.throttle.LoginRecord.Standing;
import dev.vxsocks.auth.throttle.LoginThrottleStore;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Failed logins counted cluster-wide: one entry of {@link HazelcastSetup#LOGINS_MAP} per client address holding its
 * {@link LoginRecord}, changed only by the entry processors below on the key's owner, so that failures counted on
 * different nodes add up atomically and exactly one node sees (and logs) a lockout start. Each written entry
 * carries a time to live of its own, a minute past the time its record is forgotten, so the map empties itself.
 *
 * <p>What a node read is remembered here for up to {@value #KNOWN_FOR_SECONDS} s and dropped as soon as any node
 * changes that address's record: every member hears of every change (an entry listener without values; changes are
 * failures that were checked, so few even under attack). A login from an address nobody failed from lately (its
 * owner's, every second) thus costs no cluster call at all; a read waits for the key's owner only after a change.
 * The price: for the few milliseconds a change takes to reach a node, that node may still take the address for
 * clean and check one more password from it, whose failure then comes back with the lockout.
 *
 * <p>After a split brain the map keeps Hazelcast's default merge (an entry present on the surviving side wins): the
 * failures counted on the other side while split are lost, which only makes the back-off start smaller again.
 */
public final class HazelcastLoginThrottleStore implements LoginThrottleStore {

  /** Slack on each entry's time to live, so a member whose clock runs ahead does not drop a record early. */
  static final long TTL_SLACK_MS = 60_000;
  static final int KNOWN_FOR_SECONDS = 10;
  /** Addresses remembered at most; past it, everything is forgotten (and read again). */
  static final int MAX_KNOWN = 100_000;

  /** A standing as read at {@code readAt} (the caller's clock, ms). */
  private record Known(Standing standing, long readAt) {
  }

  private final Vertx vertx;
  private final IMap<String, LoginRecord> map;
  /** Standings read lately, by address, then user name. */
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Known>> known = new ConcurrentHashMap<>();
  /** Counts the changes heard of: a read that saw one land while it was under way does not keep its answer. */
  private final AtomicLong changes = new AtomicLong();
  private UUID listenerId;

  public HazelcastLoginThrottleStore(Vertx vertx, HazelcastInstance hz) {
    this.vertx = vertx;
    this.map = hz.getMap(HazelcastSetup.LOGINS_MAP);
  }

  /** Listens for changes made by any member. Blocking: call off the event loop. */
  public HazelcastLoginThrottleStore start() {
    listenerId = map.addEntryListener(new Changes(), false);
    return this;
  }

  public void stop() {
    if (listenerId != null) {
      map.removeEntryListener(listenerId);
    }
  }

  @Override
  public Future<Standing> read(String address, String user, long now) {
    Map<String, Known> byUser = known.get(address);
    Known k = byUser == null ? null : byUser.get(user);
    if (k != null && now >= k.readAt() && now - k.readAt() < TimeUnit.SECONDS.toMillis(KNOWN_FOR_SECONDS)) {
      return Future.succeededFuture(k.standing());
    }
    long before = changes.get();
    return this.<Standing>call(map.submitToKey(address, new Read(user, now))).onSuccess(standing -> {
      if (known.size() >= MAX_KNOWN) {
        known.clear();
      }
      Map<String, Known> users = known.computeIfAbsent(address, a -> new ConcurrentHashMap<>());
      Known mine = new Known(standing, now);
      users.put(user, mine);
      // Put, then check: a change heard of after this check removes the address itself.
      if (changes.get() != before) {
        users.remove(user, mine);
      }
    });
  }

  @Override
  public Future<Outcome> fail(String address, String user, Rules rules, long now) {
    return this.<Outcome>call(map.submitToKey(address, new Fail(user, rules, now))).andThen(ar -> changed(address));
  }

  @Override
  public Future<Void> succeed(String address, String user, long now) {
    return this.<Boolean>call(map.submitToKey(address, new Succeed(user, now))).andThen(ar -> changed(address))
        .mapEmpty();
  }

  private void changed(String address) {
    changes.incrementAndGet();
    known.remove(address);
  }

  /** Any member's change of an address's record: forget what was read of it. */
  private final class Changes implements EntryAddedListener<String, LoginRecord>, EntryUpdatedListener<String, LoginRecord>,
      EntryRemovedListener<String, LoginRecord>, EntryExpiredListener<String, LoginRecord>,
      EntryEvictedListener<String, LoginRecord>, MapClearedListener {

    @Override
    public void entryAdded(EntryEvent<String, LoginRecord> e) {
      changed(e.getKey());
    }

    @Override
    public void entryUpdated(EntryEvent<String, LoginRecord> e) {
      changed(e.getKey());
    }

    @Override
    public void entryRemoved(EntryEvent<String, LoginRecord> e) {
      changed(e.getKey());
    }

    @Override
    public void entryExpired(EntryEvent<String, LoginRecord> e) {
      changed(e.getKey());
    }

    @Override
    public void entryEvicted(EntryEvent<String, LoginRecord> e) {
      changed(e.getKey());
    }

    @Override
    public void mapCleared(MapEvent e) {
      changes.incrementAndGet();
      known.clear();
    }
  }

  private <T> Future<T> call(CompletionStage<T> stage) {
    return HazelcastCalls.onContext(stage, vertx.getOrCreateContext());
  }

  private static void store(Map.Entry<String, LoginRecord> entry, LoginRecord r, long now) {
    if (r.forgettable(now)) {
      entry.setValue(null);
    } else {
      ((ExtendedMapEntry<String, LoginRecord>) entry).setValue(r, r.expiresAt() - now + TTL_SLACK_MS,
          TimeUnit.MILLISECONDS);
    }
  }

  /** The standing of a user name from the key's address; changes nothing. */
  static final class Read implements EntryProcessor<String, LoginRecord, Standing>, ReadOnly {
    private static final long serialVersionUID = 1L;
    private final String user;
    private final long now;

    Read(String user, long now) {
      this.user = user;
      this.now = now;
    }

    @Override
    public Standing process(Map.Entry<String, LoginRecord> entry) {
      LoginRecord r = entry.getValue();
      return r == null ? Standing.NONE : r.standing(user, now);
    }

    @Override
    public EntryProcessor<String, LoginRecord, Standing> getBackupProcessor() {
      return null;
    }
  }

  /** Counts one failed login of a user name from the key's address. */
  static final class Fail implements EntryProcessor<String, LoginRecord, Outcome> {
    private static final long serialVersionUID = 1L;
    private final String user;
    private final Rules rules;
    private final long now;

    Fail(String user, Rules rules, long now) {
      this.user = user;
      this.rules = rules;
      this.now = now;
    }

    @Override
    public Outcome process(Map.Entry<String, LoginRecord> entry) {
      LoginRecord r = entry.getValue();
      if (r == null || r.forgettable(now)) {
        r = new LoginRecord();
      }
      Outcome out = r.fail(user, rules, now);
      store(entry, r, now);
      return out;
    }
  }

  /** Forgets a user name's counter at the key's address after a successful login. */
  static final class Succeed implements EntryProcessor<String, LoginRecord, Boolean> {
    private static final long serialVersionUID = 1L;
    private final String user;
    private final long now;

    Succeed(String user, long now) {
      this.user = user;
      this.now = now;
    }

    @Override
    public Boolean process(Map.Entry<String, LoginRecord> entry) {
      LoginRecord r = entry.getValue();
      if (r == null || !r.succeed(user)) {
        return false;
      }
      store(entry, r, now);
      return true;
    }
  }
}
