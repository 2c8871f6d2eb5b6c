package dev.vxsocks.auth;

import dev.vxsocks.auth.api.AuthAddresses;
import dev.vxsocks.auth.api.AuthorizeRequest;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.auth.rules.RuleEngine;
import dev.vxsocks.auth.throttle.InMemoryLoginThrottleStore;
import dev.vxsocks.auth.throttle.LoginThrottle;
import dev.vxsocks.auth.throttle.LoginThrottleStore;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Answers the proxy's questions on the {@link AuthAddresses} (local consumers only): client rules, credentials,
 * request rules, and session slots. Deploy one instance per node; the stores it is given decide whether its state is
 * node-local or cluster-wide.
 */
public final class AuthVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(AuthVerticle.class.getName());
  /** How long a verified password is remembered (see {@link CredentialChecker}). */
  public static final Duration CREDENTIAL_CACHE_TTL = Duration.ofSeconds(60);

  private final UserStore users;
  private final SessionLimiter limiter;
  private final SessionRates rates;
  private final VerificationMemo memo;
  private final LoginThrottleStore failedLogins;
  private volatile ProxyConfig config;
  private volatile RuleEngine rules;
  private CredentialChecker credentials;
  private volatile VerifyPool verifyPool;
  private volatile LoginThrottle throttle;

  /** A node whose failed logins are counted in memory (a single node). */
  public AuthVerticle(ProxyConfig config, UserStore users, SessionLimiter limiter) {
    this(config, users, limiter, new InMemorySessionRateLimiter(), VerificationMemo.NONE);
  }

  /** With {@code rateLimiter} for the new-session rate limits (a cluster's is cluster-wide). */
  public AuthVerticle(ProxyConfig config, UserStore users, SessionLimiter limiter, SessionRateLimiter rateLimiter) {
    this(config, users, limiter, rateLimiter, VerificationMemo.NONE);
  }

  /** Sharing verified passwords through {@code memo} (a cluster's {@link VerificationMemo}). */
  public AuthVerticle(ProxyConfig config, UserStore users, SessionLimiter limiter, VerificationMemo memo) {
    this(config, users, limiter, new InMemorySessionRateLimiter(), memo);
  }

  /** {@code failedLogins}: where the login throttle counts (cluster-wide for a cluster node). */
  public AuthVerticle(ProxyConfig config, UserStore users, SessionLimiter limiter, LoginThrottleStore failedLogins) {
    this(config, users, limiter, new InMemorySessionRateLimiter(), VerificationMemo.NONE, failedLogins);
  }

  /** With cluster-wide rate limits and the verification memo; failed logins counted on this node. */
  public AuthVerticle(ProxyConfig config, UserStore users, SessionLimiter limiter, SessionRateLimiter rateLimiter,
                      VerificationMemo memo) {
    this(config, users, limiter, rateLimiter, memo, new InMemoryLoginThrottleStore());
  }

  /** A cluster node's: cluster-wide rate limits, the verification memo and the failed-login counts. */
  public AuthVerticle(ProxyConfig config, UserStore users, SessionLimiter limiter, SessionRateLimiter rateLimiter,
                      VerificationMemo memo, LoginThrottleStore failedLogins) {
    this.users = users;
    this.limiter = limiter;
    this.rates = new SessionRates(rateLimiter);
    this.memo = memo;
    this.failedLogins = failedLogins;
    apply(config);
  }

  /** The new-session rate limits and their refusal counters. */
  public SessionRates sessionRates() {
    return rates;
  }

  /** Switches to a new configuration: rules, limits and the login throttle apply to the next question asked. */
  public void apply(ProxyConfig next) {
    this.config = next;
    this.rules = new RuleEngine(next);
    VerifyPool pool = verifyPool;
    if (pool != null) {
      pool.resize(next.auth().verifyThreadsHere(), next.auth().verifyQueue(), next.timeouts().auth());
    }
    LoginThrottle t = throttle;
    if (t != null) {
      t.apply(next.auth().throttle());
    }
  }

  @Override
  public Future<?> start() {
    int decoyIterations = config.users().stream().mapToInt(u -> u.password().iterations()).max()
        .orElse(dev.vxsocks.config.PasswordHash.DEFAULT_ITERATIONS);
    ProxyConfig c = config;
    verifyPool = new VerifyPool(c.auth().verifyThreadsHere(), c.auth().verifyQueue(), c.timeouts().auth());
    credentials = new CredentialChecker(vertx, users, CREDENTIAL_CACHE_TTL, decoyIterations, verifyPool, memo);
    throttle = new LoginThrottle(vertx, failedLogins, c.auth().throttle(), c.cluster().storeTimeout());
    // A configuration applied while starting (a rollout arriving meanwhile) is not lost.
    apply(config);
    var bus = vertx.eventBus();
    DeliveryOptions localOnly = new DeliveryOptions().setLocalOnly(true);
    users.listen((name, revoked) -> {
      credentials.forget(name);
      if (revoked) {
        memo.drop(name);
        LOG.info("auth: user " + name + " was disabled, removed or given a new password: closing its sessions on this node");
        bus.publish(AuthAddresses.USER_REVOKED, name, localOnly);
      }
    });
    bus.<JsonObject>localConsumer(AuthAddresses.CLIENT, m -> answer(m, body -> Future.succeededFuture(
        rules.checkClient(body.getString("client")))));
    bus.<JsonObject>localConsumer(AuthAddresses.AUTHENTICATE, m -> answer(m, this::authenticate));
    bus.<JsonObject>localConsumer(AuthAddresses.USER_CHECK, m -> answer(m, this::checkUser));
    bus.<JsonObject>localConsumer(AuthAddresses.AUTHORIZE, m -> answer(m, this::authorize));
    bus.<JsonObject>localConsumer(AuthAddresses.SESSION_OPEN, m -> answer(m, this::openSession));
    bus.<JsonObject>localConsumer(AuthAddresses.SESSION_CLOSE, m -> {
      if (m.body() != null) {
        limiter.close(m.body().getString("lease"));
      }
    });
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    VerifyPool pool = verifyPool;
    if (pool != null) {
      pool.close();
    }
    return Future.succeededFuture();
  }

  private Future<Verdict> authenticate(JsonObject body) {
    String user = body.getString("user");
    String password = body.getString("password");
    if (user == null || user.isEmpty() || password == null || password.isEmpty()) {
      return Future.succeededFuture(Verdict.deny(Verdict.BAD_CREDENTIALS, "empty user name or password"));
    }
    return throttle.authenticate(user, password, body.getString("client"), credentials);
  }

  /**
   * A user the KDC vouched for (GSS-API): {@code users} need not list Kerberos users, but a listed one that is
   * disabled is refused, so {@code user disable} works whatever the method (README, "GSS-API (Kerberos)").
   */
  private Future<Verdict> checkUser(JsonObject body) {
    String user = body.getString("user");
    if (user == null || user.isEmpty()) {
      return Future.succeededFuture(Verdict.deny(Verdict.BAD_CREDENTIALS, "empty user name"));
    }
    return users.find(user).map(u -> u == null ? Verdict.allow("not listed")
        : u.enabled() ? Verdict.allow("listed") : Verdict.deny(Verdict.DISABLED, "user is disabled"));
  }

  /** A UDP association's counters live under their own keys, apart from the sessions of the same user or IP. */
  private static final String UDP_KEY_PREFIX = "udp\u0000";

  /** Request rules; with {@code open-session: true}, an allowed request also takes its session slot in one answer. */
  private Future<Verdict> authorize(JsonObject body) {
    Verdict verdict = rules.checkRequest(AuthorizeRequest.fromJson(body));
    if (!verdict.allowed() || !body.getBoolean(AuthAddresses.OPEN_SESSION, false)) {
      return Future.succeededFuture(verdict);
    }
    return openSession(body);
  }

  private Future<Verdict> openSession(JsonObject body) {
    boolean udp = AuthAddresses.KIND_UDP_ASSOCIATION.equals(body.getString("kind"));
    ProxyConfig.Limits limits = config.limits();
    if (udp) {
      return openSlots(body, true, limits);
    }
    // A new session: its rate token first, then its slot (a session the rate refuses costs no slot check).
    return rates.check(body.getString("user"), body.getString("client"), limits)
        .compose(refused -> refused != null ? Future.succeededFuture(refused) : openSlots(body, false, limits));
  }

  private Future<Verdict> openSlots(JsonObject body, boolean udp, ProxyConfig.Limits limits) {
    String user = body.getString("user");
    String client = body.getString("client");
    int perUser = udp ? limits.udpAssociationsPerUser() : limits.sessionsPerUser();
    int perIp = udp ? limits.udpAssociationsPerClientIp() : limits.sessionsPerClientIp();
    String what = udp ? "udp-associations" : "sessions";
    String userKey = user == null ? null : udp ? UDP_KEY_PREFIX + user : user;
    String ipKey = udp ? UDP_KEY_PREFIX + client : client;
    return limiter.open(userKey, ipKey, perUser, perIp).map(lease -> {
      if (lease != null) {
        return Verdict.granted(lease);
      }
      boolean byUser = userKey != null && perUser > 0 && limiter.countForUser(userKey) >= perUser;
      return byUser
          ? Verdict.limit(Verdict.LIMIT_PER_USER, what + "-per-user limit " + perUser + " reached for " + user)
          : Verdict.limit(Verdict.LIMIT_PER_IP, what + "-per-client-ip limit " + perIp + " reached for " + client);
    });
  }

  /** Replies with the verdict, or fails the message (code 500) so the asker does not wait for its timeout. */
  private void answer(Message<JsonObject> m, Function<JsonObject, Future<Verdict>> decide) {
    Future<Verdict> verdict;
    try {
      if (m.body() == null) {
        throw new IllegalArgumentException("empty message");
      }
      verdict = decide.apply(m.body());
    } catch (RuntimeException malformed) {
      verdict = Future.failedFuture(malformed);
    }
    verdict.onComplete(ar -> {
      if (ar.succeeded()) {
        m.reply(ar.result().toJson());
      } else {
        LOG.log(Level.WARNING, "auth: " + m.address() + " failed: " + ar.cause());
        m.fail(500, String.valueOf(ar.cause().getMessage()));
      }
    });
  }
}
