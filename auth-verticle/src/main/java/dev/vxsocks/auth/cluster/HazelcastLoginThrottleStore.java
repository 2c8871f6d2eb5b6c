package dev.vxsocks.auth.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.ReadOnly;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import dev.vxsocks.auth.throttle.LoginRecord;
import dev.vxsocks.auth.throttle.LoginRecord.Outcome;
import dev.vxsocks.auth.throttle.LoginRecord.Rules;
import dev.vxsocks.auth.throttle.LoginRecord.Standing;
import dev.vxsocks.auth.throttle.LoginThrottleStore;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Failed logins counted cluster-wide: one entry of {@link HazelcastSetup#LOGINS_MAP} per client address holding its
 * {@link LoginRecord}, changed only by the entry processors below on the key's owner, so that failures counted on
 * different nodes add up atomically and exactly one node sees (and logs) a lockout start. One call per login: a
 * read before the hash (read-only, no backup), a failure or a success after it. Each written entry carries a time
 * to live of its own, a minute past the time its record is forgotten, so the map empties itself.
 *
 * <p>After a split brain the map keeps Hazelcast's default merge (an entry present on the surviving side wins): the
 * failures counted on the other side while split are lost, which only makes the back-off start smaller again.
 */
public final class HazelcastLoginThrottleStore implements LoginThrottleStore {

  /** Slack on each entry's time to live, so a member whose clock runs ahead does not drop a record early. */
  static final long TTL_SLACK_MS = 60_000;

  private final Vertx vertx;
  private final IMap<String, LoginRecord> map;

  public HazelcastLoginThrottleStore(Vertx vertx, HazelcastInstance hz) {
    this.vertx = vertx;
    this.map = hz.getMap(HazelcastSetup.LOGINS_MAP);
  }

  @Override
  public Future<Standing> read(String address, String user, long now) {
    return call(map.submitToKey(address, new Read(user, now)));
  }

  @Override
  public Future<Outcome> fail(String address, String user, Rules rules, long now) {
    return call(map.submitToKey(address, new Fail(user, rules, now)));
  }

  @Override
  public Future<Void> succeed(String address, String user, long now) {
    return call(map.submitToKey(address, new Succeed(user, now))).mapEmpty();
  }

  private <T> Future<T> call(CompletionStage<T> stage) {
    return Future.fromCompletionStage(stage, vertx.getOrCreateContext());
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
