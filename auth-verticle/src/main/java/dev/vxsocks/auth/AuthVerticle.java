package dev.vxsocks.auth;

import dev.vxsocks.auth.api.AuthAddresses;
import dev.vxsocks.auth.api.AuthorizeRequest;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.auth.rules.RuleEngine;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
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
  private volatile ProxyConfig config;
  private volatile RuleEngine rules;
  private CredentialChecker credentials;

  public AuthVerticle(ProxyConfig config, UserStore users, SessionLimiter limiter) {
    this.users = users;
    this.limiter = limiter;
    apply(config);
  }

  /** Switches to a new configuration: rules and limits apply to the next question asked. */
  public void apply(ProxyConfig next) {
    this.config = next;
    this.rules = new RuleEngine(next);
  }

  @Override
  public Future<?> start() {
    credentials = new CredentialChecker(vertx, users, CREDENTIAL_CACHE_TTL);
    var bus = vertx.eventBus();
    bus.<JsonObject>localConsumer(AuthAddresses.CLIENT, m -> answer(m, Future.succeededFuture(
        rules.checkClient(m.body().getString("client")))));
    bus.<JsonObject>localConsumer(AuthAddresses.AUTHENTICATE, this::authenticate);
    bus.<JsonObject>localConsumer(AuthAddresses.AUTHORIZE, m -> answer(m, Future.succeededFuture(
        rules.checkRequest(AuthorizeRequest.fromJson(m.body())))));
    bus.<JsonObject>localConsumer(AuthAddresses.SESSION_OPEN, this::openSession);
    bus.<JsonObject>localConsumer(AuthAddresses.SESSION_CLOSE, m -> limiter.close(m.body().getString("lease")));
    return Future.succeededFuture();
  }

  private void authenticate(Message<JsonObject> m) {
    String user = m.body().getString("user");
    String password = m.body().getString("password");
    if (user == null || user.isEmpty() || password == null || password.isEmpty()) {
      answer(m, Future.succeededFuture(Verdict.deny(Verdict.BAD_CREDENTIALS, "empty user name or password")));
      return;
    }
    answer(m, credentials.check(user, password));
  }

  private void openSession(Message<JsonObject> m) {
    String user = m.body().getString("user");
    String client = m.body().getString("client");
    ProxyConfig.Limits limits = config.limits();
    answer(m, limiter.open(user, client, limits.sessionsPerUser(), limits.sessionsPerClientIp()).map(lease -> {
      if (lease != null) {
        return Verdict.granted(lease);
      }
      String which = user != null && limits.sessionsPerUser() > 0 && limiter.countForUser(user) >= limits.sessionsPerUser()
          ? "sessions-per-user limit " + limits.sessionsPerUser() + " reached for " + user
          : "sessions-per-client-ip limit " + limits.sessionsPerClientIp() + " reached for " + client;
      return Verdict.deny(Verdict.LIMIT, which);
    }));
  }

  private void answer(Message<JsonObject> m, Future<Verdict> verdict) {
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
