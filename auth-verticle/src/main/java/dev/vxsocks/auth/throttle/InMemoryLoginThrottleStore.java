package dev.vxsocks.auth.throttle;

import dev.vxsocks.auth.throttle.LoginRecord.Outcome;
import dev.vxsocks.auth.throttle.LoginRecord.Rules;
import dev.vxsocks.auth.throttle.LoginRecord.Standing;
import io.vertx.core.Future;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The failed logins of a single node, in memory. Each change of a record runs under the map's lock for that key;
 * records nothing counts in any more are dropped on a sweep every {@value #SWEEP_EVERY} failures.
 */
public final class InMemoryLoginThrottleStore implements LoginThrottleStore {

  static final int SWEEP_EVERY = 4096;

  private final ConcurrentHashMap<String, LoginRecord> records = new ConcurrentHashMap<>();
  private final AtomicInteger sinceSweep = new AtomicInteger();

  @Override
  public Future<Standing> read(String address, String user, long now) {
    Standing[] out = {Standing.NONE};
    records.computeIfPresent(address, (k, r) -> {
      if (r.forgettable(now)) {
        return null;
      }
      out[0] = r.standing(user, now);
      return r;
    });
    return Future.succeededFuture(out[0]);
  }

  @Override
  public Future<Outcome> fail(String address, String user, Rules rules, long now) {
    Outcome[] out = new Outcome[1];
    records.compute(address, (k, r) -> {
      LoginRecord record = r == null || r.forgettable(now) ? new LoginRecord() : r;
      out[0] = record.fail(user, rules, now);
      return record.forgettable(now) ? null : record;
    });
    if (sinceSweep.incrementAndGet() >= SWEEP_EVERY) {
      sinceSweep.set(0);
      for (String key : records.keySet()) {
        records.computeIfPresent(key, (k, r) -> r.forgettable(now) ? null : r);
      }
    }
    return Future.succeededFuture(out[0]);
  }

  @Override
  public Future<Void> succeed(String address, String user, long now) {
    records.computeIfPresent(address, (k, r) -> {
      r.succeed(user);
      return r.forgettable(now) ? null : r;
    });
    return Future.succeededFuture();
  }

  /** Addresses with something on record (tests). */
  int size() {
    return records.size();
  }
}
