package dev.vxsocks.config;

import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The whole configuration of a node, read and validated in one place: {@link #fromJson} is where every key is read.
 * A value that cannot be used throws a {@link ConfigException} naming the key, before anything starts.
 *
 * <p>The file format (YAML) is documented key by key in the README; the shipped default is
 * {@code vxsocks-default.yaml} in this module's resources.
 *
 * <p>Longer than our other classes for a reason: it is the one place every key, its default and its bounds are
 * written, so that a reader checking a key against the README finds all of them in one file.
 */
public record ProxyConfig(Listen listen, Auth auth, List<User> users, Rules rules, Timeouts timeouts, Limits limits,
                          Bind bind, Udp udp, Cluster cluster, Admin admin, Drain drain, Log log) {

  /**
   * Where SOCKS clients connect. A connection whose real peer is in {@code proxyProtocolFrom} (a trusted load
   * balancer) must open with a PROXY protocol header within {@code proxyProtocolTimeout}, and the header's address
   * is the client's from then on; every other peer is a direct client whose own address counts (and a PROXY header
   * from it is a protocol error). Empty: no peer is trusted, PROXY protocol is off.
   */
  public record Listen(String host, int port, List<Cidr> proxyProtocolFrom, Duration proxyProtocolTimeout) {
    public static final Duration DEFAULT_PROXY_PROTOCOL_TIMEOUT = Duration.ofSeconds(3);

    /** True when a connection from {@code peer} must begin with a PROXY protocol header. */
    public boolean trustsProxyHeaderFrom(InetAddress peer) {
      return Cidr.anyContains(proxyProtocolFrom, peer);
    }
  }

  /** The admin HTTP server (health, readiness); {@code port} 0 switches it off. */
  public record Admin(String host, int port) {
    public static final int DEFAULT_PORT = 9180;
  }

  /**
   * What SIGTERM does: readiness fails at once, the node keeps accepting for {@code grace} (time for the balancer's
   * health check to notice), then stops accepting and lets open sessions run for up to {@code timeout}.
   */
  public record Drain(Duration grace, Duration timeout) {
  }

  /** How the node writes its log: {@code text} (one readable line per record) or {@code json} (one object per line). */
  public record Log(String format) {
    public static final String TEXT = "text";
    public static final String JSON = "json";

    public boolean json() {
      return JSON.equals(format);
    }
  }

  /**
   * {@code methods} in the server's order of preference. Password verifications run on {@code verifyThreads} threads
   * of their own (0: half this node's cores, at least one) with at most {@code verifyQueue} waiting; {@code throttle}
   * refuses logins from addresses that failed too often; {@code gssapi} is null unless {@code methods} lists it.
   */
  public record Auth(List<AuthMethodName> methods, boolean allowNoAuthOffLoopback, int verifyThreads, int verifyQueue,
                     Throttle throttle, Gssapi gssapi) {
    /** The verification threads this node runs: {@code verifyThreads}, or half its cores (at least one) for 0. */
    public int verifyThreadsHere() {
      return verifyThreads > 0 ? verifyThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }
  }

  /**
   * Login throttling, counted cluster-wide: past {@code failuresPerClientIp} failed logins from one client address,
   * or {@code failuresPerUserAndClientIp} for one user name from one address, within {@code window}, further
   * attempts from that address (or for that name from that address) are refused without a hash for
   * {@code backoff}, doubled at each new lockout up to {@code backoffMax}. From an address with failures on record,
   * at most {@code hashesPerUser} verifications a second per user name run on this node; the rest wait (up to 1 s).
   * 0 switches a threshold (or the per-user rate) off.
   */
  public record Throttle(int failuresPerClientIp, int failuresPerUserAndClientIp, Duration window, Duration backoff,
                         Duration backoffMax, int hashesPerUser) {
    public boolean counts() {
      return failuresPerClientIp > 0 || failuresPerUserAndClientIp > 0;
    }
  }

  /**
   * {@code auth.gssapi} (RFC 1961): the acceptor's {@code keytab} and {@code principal} (null: any key in the
   * keytab), the protection levels accepted in the server's order of preference, the realms whose one-component
   * principals log in by their short name ({@code alice@EXAMPLE.COM} is {@code alice}), and whether any other
   * principal is refused or kept whole as the user name.
   */
  public record Gssapi(String keytab, String principal, List<GssapiProtection> protection, Set<String> realms,
                       boolean keepOtherPrincipals) {
    public static final List<GssapiProtection> DEFAULT_PROTECTION =
        List.of(GssapiProtection.NONE, GssapiProtection.INTEGRITY, GssapiProtection.CONFIDENTIALITY);
  }

  public record User(String name, PasswordHash password, boolean enabled) {
    @Override
    public String toString() {
      return "User[" + name + (enabled ? "" : ", disabled") + "]";
    }
  }

  /** Client rules are checked on accept (who may talk to us), request rules on each parsed request. */
  public record Rules(List<ClientRule> client, List<RequestRule> request) {
  }

  public record ClientRule(boolean allow, List<Cidr> from, String where) {
  }

  /**
   * Every field that is present must match (empty means any). {@code to} holds both address blocks and host
   * patterns; {@code where} is the rule's path in the configuration, for logs.
   */
  public record RequestRule(boolean allow, List<Cidr> from, Set<String> users, Set<CommandName> commands,
                            List<Cidr> toAddresses, List<HostPattern> toHosts, List<PortRange> ports, String where) {
  }

  public record Timeouts(Duration handshake, Duration connect, Duration idle, Duration halfClose, Duration auth) {
  }

  /**
   * Zero means unlimited. {@code newSessionsPerSecondPer*}: sessions let through per second per user and per client
   * address (README, "Configuration reference"; {@code SessionRates} in auth-verticle). The last five guard the node
   * itself, at accept (README, "Overload"): {@code sessionsTotal} connections open on this node, and each source's
   * share of them and of {@code pendingHandshakes}, a source being a client address cut to {@code sourcePrefixIpv4} /
   * {@code sourcePrefixIpv6} bits. {@link #AUTO} (the defaults): {@code sessionsTotal} from the node's descriptor
   * limit, {@code pendingHandshakesPerSource} a sixteenth of {@code pendingHandshakes}, {@code sessionsPerSource} a
   * quarter of the node's total; the proxy works them out.
   */
  public record Limits(int sessionsPerUser, int sessionsPerClientIp, int pendingHandshakes,
                       int udpAssociationsPerUser, int udpAssociationsPerClientIp,
                       int newSessionsPerSecondPerUser, int newSessionsPerSecondPerClientIp,
                       int sessionsTotal, int pendingHandshakesPerSource, int sessionsPerSource,
                       int sourcePrefixIpv4, int sourcePrefixIpv6) {
    /** A limit the proxy works out for itself (written {@code auto}). */
    public static final int AUTO = -1;

    /** The limits of the session pipeline; no rate limits, the node's own guards at their defaults. */
    public Limits(int sessionsPerUser, int sessionsPerClientIp, int pendingHandshakes, int udpAssociationsPerUser,
                  int udpAssociationsPerClientIp) {
      this(sessionsPerUser, sessionsPerClientIp, pendingHandshakes, udpAssociationsPerUser, udpAssociationsPerClientIp,
          0, 0, AUTO, AUTO, AUTO, 32, 64);
    }
  }

  /**
   * BIND (RFC 1928 §4): the listening socket binds to {@code host} (null: the address the client's connection
   * arrived on) on a port from {@code ports} (0: any), and the first reply carries {@code advertise} (null: the bound
   * address). A node behind a balancer advertises its own reachable address, never the balancer's.
   */
  public record Bind(String host, String advertise, PortRange ports, Duration acceptTimeout) {
  }

  /** UDP ASSOCIATE (RFC 1928 §7): the client-facing relay socket, as for {@link Bind}, and the idle time. */
  public record Udp(String host, String advertise, PortRange ports, Duration idleTimeout) {
  }

  /** The same configuration listening on another port (used when the OS chose the port). */
  public ProxyConfig withListenPort(int port) {
    return new ProxyConfig(new Listen(listen.host(), port, listen.proxyProtocolFrom(), listen.proxyProtocolTimeout()),
        auth, users, rules, timeouts, limits, bind, udp, cluster, admin, drain, log);
  }

  /** How {@code cluster.join} finds the other members. */
  public enum Join { TCP, MULTICAST, KUBERNETES }

  /**
   * The {@code cluster} section. {@code members} are {@code host:port} Hazelcast addresses (TCP join);
   * {@code eventbusPort} 0 means a free port. {@code refuseWhenUnreachable}: what a new session needing a limit check
   * gets when the cluster store does not answer within {@code storeTimeout} (true: refused; false: allowed uncounted).
   * {@code memoSecretFile}: the file holding the secret that keys the cluster-wide verification memo (null: no memo);
   * {@code memoTtl}: how long a verified password stays in the memo after its last login (zero: no memo). The file is
   * read when the node starts, not here, so that a configuration naming it validates anywhere (README, "Logins after
   * a failover").
   */
  public record Cluster(boolean enabled, String name, Join join, List<String> members, String host, int port,
                        String eventbusHost, int eventbusPort, Duration joinWait, boolean refuseWhenUnreachable,
                        Duration storeTimeout, String kubernetesNamespace, String kubernetesServiceName,
                        String memoSecretFile, Duration memoTtl) {
    public static final Duration DEFAULT_MEMO_TTL = Duration.ofHours(1);
    public static final Cluster DISABLED = new Cluster(false, "vxsocks", Join.TCP, List.of("127.0.0.1:5701"),
        "127.0.0.1", 5701, "127.0.0.1", 0, Duration.ofSeconds(2), true, Duration.ofSeconds(2), null, null,
        null, DEFAULT_MEMO_TTL);

    /** True when logins verified on one node are remembered for the others (a secret file and a non-zero TTL). */
    public boolean memoEnabled() {
      return memoSecretFile != null && !memoTtl.isZero();
    }
  }

  /**
   * This node's configuration with the shared parts (users, rules, limits, timeouts, auth) taken from {@code shared},
   * a configuration rolled out to the whole cluster. What is node-specific ({@code listen} with the balancers it
   * trusts, {@code bind} and {@code udp} with their advertised addresses, {@code cluster}, {@code admin},
   * {@code drain}) stays.
   */
  public ProxyConfig withShared(ProxyConfig shared) {
    return new ProxyConfig(listen, shared.auth(), shared.users(), shared.rules(), shared.timeouts(), shared.limits(),
        bind, udp, cluster, admin, drain, log);
  }

  /** The built-in configuration with no file at all: loopback, no auth, nothing but the defaults below. */
  public static ProxyConfig defaults() {
    return fromJson(new JsonObject());
  }

  public static ProxyConfig fromJson(JsonObject json) {
    Section root = new Section("", json, "listen", "auth", "users", "rules", "timeouts", "limits", "bind", "udp",
        "cluster", "admin", "drain", "log");

    Section l = new Section("listen", root.object("listen"), "host", "port", "proxy-protocol-from",
        "proxy-protocol-timeout");
    String host = l.string("host", "127.0.0.1");
    InetAddress listenIp = IpLiterals.parse(host);
    if (listenIp == null && !host.equals("localhost")) {
      throw new ConfigException("listen.host", "must be an IP address (or localhost), got '" + host + "'");
    }
    Listen listen = new Listen(host, l.integer("port", 1080, 0, 65535), cidrs(l, "proxy-protocol-from"),
        l.duration("proxy-protocol-timeout", Listen.DEFAULT_PROXY_PROTOCOL_TIMEOUT, Duration.ofMillis(100),
            Duration.ofMinutes(1)));
    boolean loopbackOnly = listenIp == null || listenIp.isLoopbackAddress();

    Section a = new Section("auth", root.object("auth"), "methods", "allow-no-auth-off-loopback", "verify-threads",
        "verify-queue", "throttle", "gssapi");
    Set<AuthMethodName> methods = new LinkedHashSet<>();
    for (String m : a.strings("methods")) {
      AuthMethodName method = AuthMethodName.of(m);
      if (method == null) {
        throw new ConfigException("auth.methods", "unknown method '" + m + "' (known: " + ConfigWord.known(AuthMethodName.class) + ")");
      }
      methods.add(method);
    }
    if (methods.isEmpty()) {
      methods.add(loopbackOnly ? AuthMethodName.NONE : AuthMethodName.USERNAME_PASSWORD);
    }
    boolean allowOpen = a.bool("allow-no-auth-off-loopback", false);
    if (methods.contains(AuthMethodName.NONE) && !loopbackOnly && !allowOpen) {
      throw new ConfigException("auth.methods", "'none' on the non-loopback address " + host
          + " would make an open proxy; require username-password, or set auth.allow-no-auth-off-loopback: true");
    }
    Section g = new Section("auth.gssapi", a.object("gssapi"), "keytab", "principal", "protection", "realms",
        "other-principals");
    Auth auth = new Auth(List.copyOf(methods), allowOpen, a.integer("verify-threads", 0, 0, 1024),
        a.integer("verify-queue", 32, 0, 100_000), throttle(new Section("auth.throttle", a.object("throttle"),
            "failures-per-client-ip", "failures-per-user-and-client-ip", "window", "backoff", "backoff-max",
            "hashes-per-user")), methods.contains(AuthMethodName.GSSAPI) ? gssapi(g) : null);

    List<User> users = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<JsonObject> userList = root.objects("users");
    for (int i = 0; i < userList.size(); i++) {
      Section u = new Section("users[" + i + "]", userList.get(i), "name", "password", "enabled");
      String name = u.string("name", null);
      if (name == null) {
        throw new ConfigException(u.key("name"), "is required");
      }
      if (name.getBytes(StandardCharsets.UTF_8).length > 255) {
        throw new ConfigException(u.key("name"), "is longer than the 255 bytes RFC 1929 allows");
      }
      if (!names.add(name)) {
        throw new ConfigException(u.key("name"), "'" + name + "' is listed twice");
      }
      String pw = u.string("password", null);
      if (pw == null) {
        throw new ConfigException(u.key("password"), "is required");
      }
      users.add(new User(name, PasswordHash.parse(u.key("password"), pw), u.bool("enabled", true)));
    }

    Section r = new Section("rules", root.object("rules"), "client", "request");
    List<ClientRule> clientRules = new ArrayList<>();
    List<JsonObject> cl = r.objects("client");
    for (int i = 0; i < cl.size(); i++) {
      Section c = new Section("rules.client[" + i + "]", cl.get(i), "action", "from");
      clientRules.add(new ClientRule(action(c), cidrs(c, "from"), "rules.client[" + i + "]"));
    }
    List<RequestRule> requestRules = new ArrayList<>();
    List<JsonObject> rl = r.objects("request");
    for (int i = 0; i < rl.size(); i++) {
      Section q = new Section("rules.request[" + i + "]", rl.get(i), "action", "from", "users", "commands", "to", "ports");
      boolean allow = action(q);
      Set<CommandName> commands = new LinkedHashSet<>();
      for (String cmd : q.strings("commands")) {
        CommandName c = CommandName.of(cmd);
        if (c == null) {
          throw new ConfigException(q.key("commands"), "unknown command '" + cmd + "' (known: " + ConfigWord.known(CommandName.class) + ")");
        }
        commands.add(c);
      }
      List<Cidr> toAddresses = new ArrayList<>();
      List<HostPattern> toHosts = new ArrayList<>();
      for (String t : q.strings("to")) {
        if (IpLiterals.parse(t.contains("/") ? t.substring(0, t.indexOf('/')) : t) != null) {
          toAddresses.add(Cidr.parse(q.key("to"), t));
        } else {
          toHosts.add(HostPattern.parse(q.key("to"), t));
        }
      }
      List<PortRange> ports = new ArrayList<>();
      for (String p : q.strings("ports")) {
        ports.add(PortRange.parse(q.key("ports"), p));
      }
      requestRules.add(new RequestRule(allow, cidrs(q, "from"), Set.copyOf(q.strings("users")), Set.copyOf(commands),
          List.copyOf(toAddresses), List.copyOf(toHosts), List.copyOf(ports), "rules.request[" + i + "]"));
    }

    Section t = new Section("timeouts", root.object("timeouts"), "handshake", "connect", "idle", "half-close", "auth");
    Duration ms100 = Duration.ofMillis(100);
    Duration day = Duration.ofDays(1);
    Timeouts timeouts = new Timeouts(
        t.duration("handshake", Duration.ofSeconds(10), ms100, Duration.ofMinutes(10)),
        t.duration("connect", Duration.ofSeconds(10), ms100, Duration.ofMinutes(10)),
        t.duration("idle", Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofDays(7)),
        t.duration("half-close", Duration.ofSeconds(60), ms100, day),
        t.duration("auth", Duration.ofSeconds(5), ms100, Duration.ofMinutes(1)));

    Section lim = new Section("limits", root.object("limits"), "sessions-per-user", "sessions-per-client-ip",
        "pending-handshakes", "udp-associations-per-user", "udp-associations-per-client-ip",
        "new-sessions-per-second-per-user", "new-sessions-per-second-per-client-ip",
        "sessions-total", "pending-handshakes-per-source", "sessions-per-source", "source-prefix-ipv4",
        "source-prefix-ipv6");
    Limits limits = new Limits(
        lim.integer("sessions-per-user", 0, 0, 10_000_000),
        lim.integer("sessions-per-client-ip", 0, 0, 10_000_000),
        lim.integer("pending-handshakes", 4096, 1, 10_000_000),
        lim.integer("udp-associations-per-user", 0, 0, 10_000_000),
        lim.integer("udp-associations-per-client-ip", 0, 0, 10_000_000),
        lim.integer("new-sessions-per-second-per-user", 0, 0, 1_000_000),
        lim.integer("new-sessions-per-second-per-client-ip", 0, 0, 1_000_000),
        autoOrInteger(lim, "sessions-total"),
        autoOrInteger(lim, "pending-handshakes-per-source"),
        autoOrInteger(lim, "sessions-per-source"),
        lim.integer("source-prefix-ipv4", 32, 8, 32),
        lim.integer("source-prefix-ipv6", 64, 16, 128));

    Section b = new Section("bind", root.object("bind"), "host", "advertise", "ports", "accept-timeout");
    Bind bind = new Bind(ipOrNull(b, "host"), ipOrNull(b, "advertise"), PortRange.parse(b.key("ports"), b.string("ports", "0")),
        b.duration("accept-timeout", Duration.ofSeconds(60), Duration.ofSeconds(1), day));

    Section ud = new Section("udp", root.object("udp"), "host", "advertise", "ports", "idle-timeout");
    Udp udp = new Udp(ipOrNull(ud, "host"), ipOrNull(ud, "advertise"), PortRange.parse(ud.key("ports"), ud.string("ports", "0")),
        ud.duration("idle-timeout", Duration.ofMinutes(2), Duration.ofSeconds(1), day));

    Cluster cluster = cluster(new Section("cluster", root.object("cluster"), "enabled", "name", "join", "members",
        "host", "port", "eventbus-host", "eventbus-port", "join-wait", "store-unreachable", "store-timeout",
        "kubernetes-namespace", "kubernetes-service-name", "memo-secret-file", "memo-ttl"));

    Section ad = new Section("admin", root.object("admin"), "host", "port");
    Admin admin = new Admin(ipAddress(ad, "host", "127.0.0.1"), ad.integer("port", Admin.DEFAULT_PORT, 0, 65535));

    Section dr = new Section("drain", root.object("drain"), "grace", "timeout");
    Drain drain = new Drain(dr.duration("grace", Duration.ofSeconds(5), Duration.ZERO, Duration.ofMinutes(10)),
        dr.duration("timeout", Duration.ofSeconds(30), Duration.ZERO, day));

    Section lg = new Section("log", root.object("log"), "format");
    String format = lg.string("format", Log.TEXT);
    if (!Log.TEXT.equals(format) && !Log.JSON.equals(format)) {
      throw new ConfigException(lg.key("format"), "must be text or json, got '" + format + "'");
    }
    Log log = new Log(format);

    return new ProxyConfig(listen, auth, List.copyOf(users), new Rules(List.copyOf(clientRules), List.copyOf(requestRules)),
        timeouts, limits, bind, udp, cluster, admin, drain, log);
  }

  /** {@code auth.gssapi}, read only when {@code auth.methods} lists {@code gssapi}. */
  private static Gssapi gssapi(Section g) {
    String keytab = g.string("keytab", null);
    if (keytab == null) {
      throw new ConfigException(g.key("keytab"), "is required when auth.methods lists gssapi (the service's keys)");
    }
    String principal = g.string("principal", null);
    Set<GssapiProtection> levels = new LinkedHashSet<>();
    for (String p : g.strings("protection")) {
      GssapiProtection level = GssapiProtection.of(p);
      if (level == null) {
        throw new ConfigException(g.key("protection"), "unknown level '" + p + "' (known: "
            + ConfigWord.known(GssapiProtection.class) + ")");
      }
      levels.add(level);
    }
    List<GssapiProtection> protection = levels.isEmpty() ? Gssapi.DEFAULT_PROTECTION : List.copyOf(levels);
    Set<String> realms = new LinkedHashSet<>(g.strings("realms"));
    int at = principal == null ? -1 : principal.lastIndexOf('@');
    if (realms.isEmpty() && at > 0 && at < principal.length() - 1) {
      realms.add(principal.substring(at + 1));
    }
    String others = g.string("other-principals", "refuse");
    if (!others.equals("refuse") && !others.equals("keep")) {
      throw new ConfigException(g.key("other-principals"), "must be refuse or keep, got '" + others + "'");
    }
    if (realms.isEmpty() && others.equals("refuse")) {
      throw new ConfigException(g.key("realms"), "names no realm and auth.gssapi.principal has none: every principal "
          + "would be refused; list the realms whose users log in by their short name, or set other-principals: keep");
    }
    return new Gssapi(keytab, principal, protection, Set.copyOf(realms), others.equals("keep"));
  }

  private static Throttle throttle(Section t) {
    Duration backoff = t.duration("backoff", Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofHours(1));
    Duration backoffMax = t.duration("backoff-max", Duration.ofMinutes(15), Duration.ofMillis(100), Duration.ofDays(1));
    if (backoffMax.compareTo(backoff) < 0) {
      throw new ConfigException(t.key("backoff-max"), "must not be shorter than auth.throttle.backoff ("
          + Durations.format(backoff) + "), got " + Durations.format(backoffMax));
    }
    return new Throttle(t.integer("failures-per-client-ip", 50, 0, 1_000_000),
        t.integer("failures-per-user-and-client-ip", 10, 0, 1_000_000),
        t.duration("window", Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofDays(1)), backoff, backoffMax,
        t.integer("hashes-per-user", 5, 0, 100_000));
  }

  private static Cluster cluster(Section c) {
    Cluster d = Cluster.DISABLED;
    boolean enabled = c.bool("enabled", false);
    String name = c.string("name", d.name());
    String joinName = c.string("join", "tcp");
    Join join;
    switch (joinName) {
      case "tcp": join = Join.TCP; break;
      case "multicast": join = Join.MULTICAST; break;
      case "kubernetes": join = Join.KUBERNETES; break;
      default:
        throw new ConfigException(c.key("join"), "must be tcp, multicast or kubernetes, got '" + joinName + "'");
    }
    String host = ipAddress(c, "host", d.host());
    int port = c.integer("port", d.port(), 1, 65535);
    List<String> members = new ArrayList<>();
    for (String m : c.strings("members")) {
      int colon = m.lastIndexOf(':');
      String h = colon < 0 ? m : m.substring(0, colon);
      if (h.startsWith("[") && h.endsWith("]")) {
        h = h.substring(1, h.length() - 1);
      }
      if (h.isEmpty() || (IpLiterals.parse(h) == null && !h.matches("[A-Za-z0-9.-]+"))) {
        throw new ConfigException(c.key("members"), "'" + m + "' is not host:port");
      }
      if (colon >= 0 && !m.endsWith("]")) {
        String p = m.substring(colon + 1);
        if (!p.matches("\\d{1,5}") || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
          throw new ConfigException(c.key("members"), "'" + m + "' has no valid port (list each member as host:port)");
        }
      }
      members.add(m);
    }
    if (members.isEmpty()) {
      members.add(IpLiterals.hostPort(host, port));
    }
    String ebHost = ipAddress(c, "eventbus-host", host);
    int ebPort = c.integer("eventbus-port", 0, 0, 65535);
    Duration joinWait = c.duration("join-wait", d.joinWait(), Duration.ZERO, Duration.ofMinutes(5));
    String policy = c.string("store-unreachable", "refuse");
    if (!policy.equals("refuse") && !policy.equals("allow")) {
      throw new ConfigException(c.key("store-unreachable"), "must be refuse or allow, got '" + policy + "'");
    }
    Duration storeTimeout = c.duration("store-timeout", d.storeTimeout(), Duration.ofMillis(50), Duration.ofMinutes(1));
    String memoSecretFile = c.string("memo-secret-file", null);
    if (memoSecretFile != null && memoSecretFile.isBlank()) {
      throw new ConfigException(c.key("memo-secret-file"), "must name a file (leave the key out for no memo)");
    }
    Duration memoTtl = c.duration("memo-ttl", d.memoTtl(), Duration.ZERO, Duration.ofDays(7));
    if (!memoTtl.isZero() && memoTtl.compareTo(Duration.ofSeconds(10)) < 0) {
      throw new ConfigException(c.key("memo-ttl"), "must be 0s (no memo) or between 10s and 7d, got " + memoTtl.toMillis() + "ms");
    }
    return new Cluster(enabled, name, join, List.copyOf(members), host, port, ebHost, ebPort, joinWait,
        policy.equals("refuse"), storeTimeout, c.string("kubernetes-namespace", null),
        c.string("kubernetes-service-name", null), memoSecretFile, memoTtl);
  }

  /** {@code auto} (the default) as {@link Limits#AUTO}, or a whole number from 0 (off) to 10,000,000. */
  private static int autoOrInteger(Section s, String name) {
    String v = s.string(name, "auto");
    if (v.equals("auto")) {
      return Limits.AUTO;
    }
    if (!v.matches("-?\\d{1,18}")) {
      throw new ConfigException(s.key(name), "must be auto or a whole number, got '" + v + "'");
    }
    return s.integer(name, Limits.AUTO, 0, 10_000_000);
  }

  private static String ipAddress(Section s, String key, String def) {
    String v = s.string(key, def);
    if (IpLiterals.parse(v) == null) {
      throw new ConfigException(s.key(key), "must be an IP address, got '" + v + "'");
    }
    return v;
  }

  private static String ipOrNull(Section s, String name) {
    String v = s.string(name, null);
    if (v != null && IpLiterals.parse(v) == null) {
      throw new ConfigException(s.key(name), "must be an IP address, got '" + v + "'");
    }
    return v;
  }

  private static boolean action(Section s) {
    String action = s.string("action", null);
    if ("allow".equals(action)) {
      return true;
    }
    if ("deny".equals(action)) {
      return false;
    }
    throw new ConfigException(s.key("action"), action == null ? "is required (allow or deny)" : "must be allow or deny, got '" + action + "'");
  }

  private static List<Cidr> cidrs(Section s, String name) {
    List<Cidr> out = new ArrayList<>();
    for (String c : s.strings(name)) {
      out.add(Cidr.parse(s.key(name), c));
    }
    return List.copyOf(out);
  }
}
