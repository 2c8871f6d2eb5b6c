package dev.vxsocks.auth.throttle;

import dev.vxsocks.auth.CredentialChecker;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.auth.throttle.LoginRecord.Outcome;
import dev.vxsocks.auth.throttle.LoginRecord.Rules;
import dev.vxsocks.auth.throttle.LoginRecord.Standing;
import dev.vxsocks.auth.throttle.LoginRecord.View;
import dev.vxsocks.config.Durations;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Login throttling ({@code auth.throttle}), around the credential check of every RFC 1929 login:
 *
 * <ol>
 *   <li>A lockout this node already knows of (it saw it start, or read it) refuses the login at once: no store call,
 *       no hash ({@link Verdict#THROTTLED}).</li>
 *   <li>Otherwise the store is read: the failures of the client's address, and of this user name from it, counted by
 *       every node of the cluster. A lockout refuses the login at once.</li>
 *   <li>The credentials are checked ({@link CredentialChecker}: the cache, else a hash on the bounded pool). From an
 *       address with failures on record, at most {@code hashes-per-user} hashes a second run for one user name here;
 *       a login from a clean address never waits for them, so an attack on a name elsewhere does not hold up its
 *       owner.</li>
 *   <li>A wrong password (or an unknown name: both count alike, so the throttle tells nothing about which names
 *       exist) is counted on both counters; a lockout it starts is logged once, by the one node whose failure
 *       started it. A success forgets the counter of that name from that address, nothing else.</li>
 * </ol>
 *
 * An IPv6 client counts by its /64 (one host usually holds the whole prefix). When the store does not answer within
 * {@code cluster.store-timeout}, the login goes on as from an address with failures (the per-user rate applies) and
 * a warning is logged at most once a minute: logins never depend on the store.
 */
public final class LoginThrottle {

  private static final Logger LOG = Logger.getLogger(LoginThrottle.class.getName());
  /** The longest a hash waits for its per-user slot; past it the login is refused. */
  static final long MAX_RATE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long WARN_EVERY_NANOS = TimeUnit.SECONDS.toNanos(60);
  private static final long RATE_LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** Known lockouts kept here before the ended ones are swept. */
  private static final int SWEEP_LOCKS_AT = 10_000;

  private final Vertx vertx;
  private final LoginThrottleStore store;
  private final long storeTimeoutMs;
  private final LongSupplier clock;
  private volatile ProxyConfig.Throttle settings;
  /** Lockouts known on this node, by address or address and user name: until when (store clock, ms). */
  private final ConcurrentHashMap<String, Long> locks = new ConcurrentHashMap<>();
  private final PerUserRate rate = new PerUserRate();
  private final AtomicLong lastStoreWarning = new AtomicLong(System.nanoTime() - WARN_EVERY_NANOS);
  private final AtomicLong lastRateLog = new AtomicLong(System.nanoTime() - RATE_LOG_EVERY_NANOS);
  private final AtomicInteger rateRefused = new AtomicInteger();

  public LoginThrottle(Vertx vertx, LoginThrottleStore store, ProxyConfig.Throttle settings, Duration storeTimeout) {
    this(vertx, store, settings, storeTimeout, System::currentTimeMillis);
  }

  LoginThrottle(Vertx vertx, LoginThrottleStore store, ProxyConfig.Throttle settings, Duration storeTimeout,
      LongSupplier clock) {
    this.vertx = vertx;
    this.store = store;
    this.settings = settings;
    this.storeTimeoutMs = storeTimeout.toMillis();
    this.clock = clock;
  }

  /** New thresholds apply to the next login; lockouts already started run their course. */
  public void apply(ProxyConfig.Throttle next) {
    this.settings = next;
  }

  /** Checks {@code user}'s password from {@code client}, throttled (see the class comment). */
  public Future<Verdict> authenticate(String user, String password, String client, CredentialChecker credentials) {
    ProxyConfig.Throttle s = settings;
    if (!s.counts()) {
      return credentials.check(user, password);
    }
    String address = addressKey(client);
    Verdict locked = lockedHere(address, user, clock.getAsLong());
    if (locked != null) {
      return Future.succeededFuture(locked);
    }
    return store.read(address, user, clock.getAsLong()).timeout(storeTimeoutMs, TimeUnit.MILLISECONDS)
        .transform(read -> {
          Standing standing = null;
          if (read.succeeded()) {
            standing = read.result();
            remember(address, user, standing);
            Verdict now = lockedHere(address, user, clock.getAsLong());
            if (now != null) {
              return Future.succeededFuture(now);
            }
          } else {
            storeTrouble(read.cause());
          }
          boolean dirty = standing == null || standing.dirty();
          Standing before = standing;
          return credentials.check(user, password, name -> gate(name, dirty))
              .compose(verdict -> after(verdict, address, user, before));
        });
  }

  private Future<Verdict> after(Verdict verdict, String address, String user, Standing before) {
    if (verdict.allowed()) {
      if (before != null && !before.user().equals(View.NONE)) {
        store.succeed(address, user, clock.getAsLong()).onFailure(this::storeTrouble);
      }
      return Future.succeededFuture(verdict);
    }
    if (!Verdict.BAD_CREDENTIALS.equals(verdict.reason())) {
      return Future.succeededFuture(verdict);
    }
    ProxyConfig.Throttle s = settings;
    long now = clock.getAsLong();
    Rules rules = new Rules(s.failuresPerClientIp(), s.failuresPerUserAndClientIp(), s.window().toMillis(),
        s.backoff().toMillis(), s.backoffMax().toMillis());
    return store.fail(address, user, rules, now).timeout(storeTimeoutMs, TimeUnit.MILLISECONDS).transform(ar -> {
      if (ar.failed()) {
        storeTrouble(ar.cause());
      } else {
        Outcome o = ar.result();
        remember(address, user, o.standing());
        if (o.addressLocked()) {
          View v = o.standing().address();
          LOG.warning("auth: login throttle: client " + address + " locked out for "
              + Durations.format(Duration.ofMillis(v.lockedUntil() - now)) + " (lockout " + v.lockouts() + ") after "
              + s.failuresPerClientIp() + " failed logins within " + Durations.format(s.window())
              + "; its logins are refused without a password check until then");
        }
        if (o.userLocked()) {
          View v = o.standing().user();
          LOG.warning("auth: login throttle: user \"" + printable(user) + "\" from " + address + " locked out for "
              + Durations.format(Duration.ofMillis(v.lockedUntil() - now)) + " (lockout " + v.lockouts() + ") after "
              + s.failuresPerUserAndClientIp() + " failed logins within " + Durations.format(s.window())
              + "; that name's logins from there are refused without a password check until then");
        }
      }
      return Future.succeededFuture(verdict);
    });
  }

  /** The per-user rate, for logins from an address with failures on record. */
  private Future<Verdict> gate(String name, boolean dirty) {
    int perSecond = settings.hashesPerUser();
    if (!dirty || perSecond == 0) {
      return Future.succeededFuture();
    }
    long wait = rate.reserve(name, perSecond, System.nanoTime(), MAX_RATE_WAIT_NANOS);
    if (wait < 0) {
      rateRefused();
      return Future.succeededFuture(Verdict.deny(Verdict.THROTTLED, "more than " + perSecond
          + " password checks a second for this name from addresses with failures"));
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(wait);
    if (ms == 0) {
      return Future.succeededFuture();
    }
    Promise<Verdict> go = Promise.promise();
    vertx.setTimer(ms, id -> go.complete());
    return go.future();
  }

  private void rateRefused() {
    rateRefused.incrementAndGet();
    long last = lastRateLog.get();
    long now = System.nanoTime();
    if (now - last >= RATE_LOG_EVERY_NANOS && lastRateLog.compareAndSet(last, now)) {
      LOG.warning("auth: login throttle: " + rateRefused.getAndSet(0) + " logins refused without a password check"
          + " since the last such line: more than auth.throttle.hashes-per-user (" + settings.hashesPerUser()
          + ") a second for one name from addresses with failures");
    }
  }

  /** A refusal when this node knows of a lockout of the address, or of the user name from it, running at {@code now}. */
  private Verdict lockedHere(String address, String user, long now) {
    Long a = locks.get(address);
    if (a != null && a > now) {
      return Verdict.deny(Verdict.THROTTLED, "client " + address + " locked out for another " + (a - now) + " ms");
    }
    Long u = locks.get(address + '\u0000' + user);
    if (u != null && u > now) {
      return Verdict.deny(Verdict.THROTTLED, "user locked out from " + address + " for another " + (u - now) + " ms");
    }
    return null;
  }

  private void remember(String address, String user, Standing standing) {
    long now = clock.getAsLong();
    if (standing.address().lockedAt(now)) {
      locks.put(address, standing.address().lockedUntil());
    }
    if (standing.user().lockedAt(now)) {
      locks.put(address + '\u0000' + user, standing.user().lockedUntil());
    }
    if (locks.size() >= SWEEP_LOCKS_AT) {
      locks.values().removeIf(until -> until <= now);
    }
  }

  private void storeTrouble(Throwable err) {
    long last = lastStoreWarning.get();
    long now = System.nanoTime();
    if (now - last >= WARN_EVERY_NANOS && lastStoreWarning.compareAndSet(last, now)) {
      LOG.warning("auth: login throttle: the failed-login store did not answer within " + storeTimeoutMs
          + " ms; logins go on uncounted meanwhile (the per-user rate applies to all): " + err);
    }
  }

  /** What failures are counted under for {@code client}: the address itself, or an IPv6 address's /64. */
  public static String addressKey(String client) {
    if (client == null) {
      return "-";
    }
    InetAddress a = client.indexOf(':') >= 0 ? IpLiterals.parse(client) : null;
    if (a instanceof Inet6Address) {
      byte[] b = a.getAddress();
      return String.format("%x:%x:%x:%x::/64", (b[0] & 0xff) << 8 | (b[1] & 0xff), (b[2] & 0xff) << 8 | (b[3] & 0xff),
          (b[4] & 0xff) << 8 | (b[5] & 0xff), (b[6] & 0xff) << 8 | (b[7] & 0xff));
    }
    return a == null ? client : a.getHostAddress();
  }

  /** A client-supplied name as it may appear in a log line: printable ASCII, escaped otherwise, at most 64 chars. */
  static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length() && i < 64; i++) {
      char c = s.charAt(i);
      if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
        b.append(String.format(c > 0xff ? "\\u%04x" : "\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    return s.length() > 64 ? b + "..." : b.toString();
  }
}
