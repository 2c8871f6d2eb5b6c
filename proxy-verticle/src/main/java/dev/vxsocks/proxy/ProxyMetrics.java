package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.AuthMethodName;
import dev.vxsocks.config.CommandName;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.command.UdpDrop;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every metric the connection verticles record, named here and nowhere else (the README's "Metrics" lists them). Labels
 * are low-cardinality only: a command, a reply code, a method, an outcome, a cause, a direction, a drop reason; never a
 * user, a client address or a destination. Nothing here runs per byte: a session's bytes and datagrams are added once,
 * when it ends, and the counters a session touches are created up front, so a session costs a few array reads and
 * atomic adds.
 */
public final class ProxyMetrics {

  /** For a node or a test that exports nothing: Micrometer's no-op registry. */
  public static ProxyMetrics none() {
    return new ProxyMetrics(new CompositeMeterRegistry());
  }

  /**
   * Refusal causes decided here in the proxy; the limits' causes are the auth verticle's ({@link Verdict#limit()})
   * and the accept gate's ({@link AcceptGate.Refusal#cause()}).
   */
  static final String CLIENT_RULE = "client-rule";
  static final String REQUEST_RULE = "request-rule";
  static final String AUTH_UNAVAILABLE = "auth-unavailable";

  /** The label of a session that ended before its request: no command yet. */
  static final String NO_COMMAND = "none";
  /** The label of a session that ended without a reply (closed during the handshake, or not SOCKS5). */
  static final String NO_REPLY = "none";

  private final MeterRegistry registry;
  /** [command + 1][reply + 1]: index 0 is "none" on both axes. */
  private final Counter[][] ended;
  private final AtomicInteger[] open;
  private final Counter bytesUp;
  private final Counter bytesDown;
  private final Counter datagramsUp;
  private final Counter datagramsDown;
  private final Counter[] dropped;
  private final Timer handshake;
  private final Timer connect;
  private final Timer authRoundTrip;
  private final Map<String, Counter> authResults = new ConcurrentHashMap<>();
  private final Map<String, Counter> refusals = new ConcurrentHashMap<>();

  public ProxyMetrics(MeterRegistry registry) {
    this.registry = registry;
    CommandName[] commands = CommandName.values();
    ReplyCode[] replies = ReplyCode.values();
    ended = new Counter[commands.length + 1][replies.length + 1];
    open = new AtomicInteger[commands.length + 1];
    for (int c = 0; c <= commands.length; c++) {
      String command = c == 0 ? NO_COMMAND : commands[c - 1].configName();
      for (int r = 0; r <= replies.length; r++) {
        ended[c][r] = Counter.builder("vxsocks_sessions_ended")
            .description("Sessions ended, by command and by the reply the client got")
            .tags("command", command, "reply", r == 0 ? NO_REPLY : replies[r - 1].word())
            .register(registry);
      }
      open[c] = new AtomicInteger();
      Gauge.builder("vxsocks_sessions_open", open[c], AtomicInteger::get)
          .description("Sessions open now, by command (none: still in the handshake)")
          .tags("command", command)
          .register(registry);
    }
    bytesUp = bytes("up");
    bytesDown = bytes("down");
    datagramsUp = datagrams("up");
    datagramsDown = datagrams("down");
    UdpDrop[] drops = UdpDrop.values();
    dropped = new Counter[drops.length];
    for (UdpDrop d : drops) {
      dropped[d.ordinal()] = Counter.builder("vxsocks_udp_dropped")
          .description("UDP datagrams dropped, by reason (counted when the association ends)")
          .tags("reason", d.field().substring("dropped_".length()))
          .register(registry);
    }
    handshake = timer("vxsocks_handshake", "From accept to the success reply", Duration.ofMillis(1),
        Duration.ofSeconds(30));
    connect = timer("vxsocks_upstream_connect", "Connecting to a CONNECT destination, successful or not",
        Duration.ofMillis(1), Duration.ofSeconds(30));
    // The outcomes and causes known today exist from start-up (at 0), so that a rate is defined before the first
    // event; others (a new auth outcome) appear when they first happen.
    for (String outcome : new String[] {"ok", "bad-credentials", "disabled", "unavailable", "malformed"}) {
      authResult(AuthMethodName.USERNAME_PASSWORD.configName(), outcome, 0);
    }
    authResult(AuthMethodName.NONE.configName(), "ok", 0);
    authResult(AuthMethodName.GSSAPI.configName(), "ok", 0);
    authResult(AuthMethodName.GSSAPI.configName(), "refused", 0);
    for (String cause : new String[] {CLIENT_RULE, REQUEST_RULE, AUTH_UNAVAILABLE, Verdict.LIMIT_PER_USER,
        Verdict.LIMIT_PER_IP, Verdict.RATE_PER_USER, Verdict.RATE_PER_IP}) {
      refused(cause, 0);
    }
    for (AcceptGate.Refusal r : AcceptGate.Refusal.values()) {
      refused(r.cause(), 0);
    }
    authRoundTrip = timer("vxsocks_auth_round_trip", "A question to the auth verticle and its answer",
        Duration.ofNanos(100_000), Duration.ofSeconds(10));
  }

  private Counter bytes(String direction) {
    return Counter.builder("vxsocks_relayed_bytes").baseUnit("bytes")
        .description("Bytes relayed (up: client to destination), counted when a session ends")
        .tags("direction", direction).register(registry);
  }

  private Counter datagrams(String direction) {
    return Counter.builder("vxsocks_udp_datagrams")
        .description("UDP datagrams relayed (up: client to destination), counted when the association ends")
        .tags("direction", direction).register(registry);
  }

  private Timer timer(String name, String description, Duration min, Duration max) {
    return Timer.builder(name).description(description)
        .publishPercentileHistogram().minimumExpectedValue(min).maximumExpectedValue(max)
        .register(registry);
  }

  /** A session was accepted; it counts as open with no command until its request. */
  void opened() {
    open[0].incrementAndGet();
  }

  /** The request named {@code command}: the session moves to that command's gauge. */
  void commandStarted(CommandName command) {
    open[0].decrementAndGet();
    open[command.ordinal() + 1].incrementAndGet();
  }

  /** The session ended; {@code command} and {@code reply} may be null. */
  void ended(CommandName command, ReplyCode reply, long up, long down) {
    int c = command == null ? 0 : command.ordinal() + 1;
    open[c].decrementAndGet();
    ended[c][reply == null ? 0 : reply.ordinal() + 1].increment();
    if (up > 0) {
      bytesUp.increment(up);
    }
    if (down > 0) {
      bytesDown.increment(down);
    }
  }

  void handshake(long nanos) {
    handshake.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The time of one upstream connect attempt. */
  public void connect(long nanos) {
    connect.record(nanos, TimeUnit.NANOSECONDS);
  }

  void authRoundTrip(long nanos) {
    authRoundTrip.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A UDP association's datagrams and drops, once, at its end. */
  public void udp(long up, long down, Map<UdpDrop, Long> drops) {
    if (up > 0) {
      datagramsUp.increment(up);
    }
    if (down > 0) {
      datagramsDown.increment(down);
    }
    drops.forEach((reason, n) -> dropped[reason.ordinal()].increment(n));
  }

  /** An authentication's outcome: {@code ok}, {@code bad-credentials}, {@code disabled}, {@code unavailable}, ... */
  void authResult(String method, String outcome) {
    authResult(method, outcome, 1);
  }

  private void authResult(String method, String outcome, int n) {
    authResults.computeIfAbsent(method + '\u0000' + outcome, k -> Counter.builder("vxsocks_auth_results")
        .description("Authentications, by method and outcome")
        .tags("method", method, "outcome", outcome).register(registry)).increment(n);
  }

  /**
   * A session refused for {@code cause}: {@code client-rule}, {@code request-rule}, {@code limit-per-user},
   * {@code limit-per-ip}, {@code pending-handshakes}, {@code auth-unavailable}, ...
   */
  void refused(String cause) {
    refused(cause, 1);
  }

  private void refused(String cause, int n) {
    refusals.computeIfAbsent(cause, k -> Counter.builder("vxsocks_refusals")
        .description("Sessions refused, by cause").tags("cause", cause).register(registry)).increment(n);
  }
}
