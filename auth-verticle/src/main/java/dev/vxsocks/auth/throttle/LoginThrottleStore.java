package dev.vxsocks.auth.throttle;

import dev.vxsocks.auth.throttle.LoginRecord.Outcome;
import dev.vxsocks.auth.throttle.LoginRecord.Rules;
import dev.vxsocks.auth.throttle.LoginRecord.Standing;
import io.vertx.core.Future;

/**
 * Where failed logins are counted: one {@link LoginRecord} per client address. {@link InMemoryLoginThrottleStore} for
 * a single node, {@code cluster.HazelcastLoginThrottleStore} for a cluster (every node counts into the same record,
 * so failures spread over the nodes add up). {@code now} is the caller's clock in milliseconds.
 */
public interface LoginThrottleStore {

  /** The standing of {@code user} from {@code address} (nothing recorded: {@link Standing#NONE}). */
  Future<Standing> read(String address, String user, long now);

  /** Counts one failed login of {@code user} from {@code address}. */
  Future<Outcome> fail(String address, String user, Rules rules, long now);

  /** A successful login of {@code user} from {@code address}: forgets that user name's counter there, nothing else. */
  Future<Void> succeed(String address, String user, long now);
}
