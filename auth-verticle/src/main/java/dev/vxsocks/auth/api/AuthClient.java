package dev.vxsocks.auth.api;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.function.LongConsumer;

/**
 * The proxy's side of the contract: typed calls that become event-bus requests to the node-local auth verticle.
 * Failures to get an answer come back as {@link AuthUnavailableException}; a refusal is a {@link Verdict}.
 */
public final class AuthClient {

  private final EventBus bus;
  private final DeliveryOptions options;
  private final LongConsumer roundTrips;

  public AuthClient(Vertx vertx, Duration timeout) {
    this(vertx, timeout, nanos -> { });
  }

  /** {@code roundTrips} is told the time of every answered question, in nanoseconds (for a metric). */
  public AuthClient(Vertx vertx, Duration timeout, LongConsumer roundTrips) {
    this.bus = vertx.eventBus();
    this.options = new DeliveryOptions().setSendTimeout(timeout.toMillis()).setLocalOnly(true);
    this.roundTrips = roundTrips;
  }

  public Future<Verdict> checkClient(String client) {
    return ask(AuthAddresses.CLIENT, new JsonObject().put("client", client));
  }

  /** The password goes over the local event bus only; it is never logged or put in a verdict. */
  public Future<Verdict> authenticate(String user, String password, String client) {
    return ask(AuthAddresses.AUTHENTICATE, new JsonObject().put("user", user).put("password", password).put("client", client));
  }

  /**
   * As {@link #authenticate(String, String, String)}, waiting up to {@code wait} instead of the auth timeout: a
   * credential check may wait its turn for the slow hash, behind a storm of logins, and is worth waiting for as long
   * as the client's handshake may still last.
   */
  public Future<Verdict> authenticate(String user, String password, String client, Duration wait) {
    return ask(AuthAddresses.AUTHENTICATE, new JsonObject().put("user", user).put("password", password).put("client", client),
        new DeliveryOptions(options).setSendTimeout(Math.max(1, wait.toMillis())));
  }

  /**
   * For a user whom another party authenticated (a Kerberos principal mapped to {@code user}): refused with
   * {@link Verdict#DISABLED} when {@code users} lists the name as disabled, allowed otherwise.
   */
  public Future<Verdict> checkUser(String user, String client) {
    return ask(AuthAddresses.USER_CHECK, new JsonObject().put("user", user).put("client", client));
  }

  public Future<Verdict> authorize(AuthorizeRequest request) {
    return ask(AuthAddresses.AUTHORIZE, request.toJson());
  }

  /**
   * Request rules and, when they allow, the session slot for the request's user and client in the same answer:
   * the verdict is a denial (reason {@link Verdict#DENIED} or {@link Verdict#LIMIT}) or carries the lease.
   */
  public Future<Verdict> authorizeAndOpen(AuthorizeRequest request) {
    return ask(AuthAddresses.AUTHORIZE, request.toJson().put(AuthAddresses.OPEN_SESSION, true));
  }

  /** Takes a session slot for {@code user} (may be null) from {@code client}; the verdict's lease gives it back. */
  public Future<Verdict> openSession(String user, String client) {
    return ask(AuthAddresses.SESSION_OPEN, new JsonObject().put("user", user).put("client", client));
  }

  /**
   * Takes a UDP-association slot ({@code limits.udp-associations-per-*}), counted apart from sessions; the
   * association's control connection holds a session slot as well.
   */
  public Future<Verdict> openUdpAssociation(String user, String client) {
    return ask(AuthAddresses.SESSION_OPEN, new JsonObject().put("user", user).put("client", client)
        .put("kind", AuthAddresses.KIND_UDP_ASSOCIATION));
  }

  public void closeSession(String lease) {
    if (lease != null) {
      bus.send(AuthAddresses.SESSION_CLOSE, new JsonObject().put("lease", lease), options);
    }
  }

  private Future<Verdict> ask(String address, JsonObject body) {
    return ask(address, body, options);
  }

  private Future<Verdict> ask(String address, JsonObject body, DeliveryOptions options) {
    long start = System.nanoTime();
    return bus.<JsonObject>request(address, body, options).transform(ar -> {
      if (ar.succeeded()) {
        roundTrips.accept(System.nanoTime() - start);
        Message<JsonObject> reply = ar.result();
        return Future.succeededFuture(Verdict.fromJson(reply.body()));
      }
      return Future.failedFuture(new AuthUnavailableException(address + ": " + ar.cause().getMessage(), ar.cause()));
    });
  }
}
