package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.codec.AddressType;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5CommandRequest;
import dev.vxsocks.proxy.codec.Socks5Encoder;
import dev.vxsocks.proxy.codec.Socks5UdpPacket;
import dev.vxsocks.proxy.transport.ZeroCopy;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * UDP ASSOCIATE (RFC 1928 §4, §6, §7). The client-facing relay socket binds to the node's UDP address and the reply
 * carries it (never a balancer's). Datagrams are accepted only from the client's IP (and from the DST.ADDR/DST.PORT
 * it announced, when non-zero); each is unwrapped, its destination resolved and checked against the rules once per
 * association, and sent from a separate outbound socket. Replies are accepted only from destinations the client
 * has sent to, wrapped in a header naming their source, and sent back. Fragments (FRAG ≠ 0) are dropped, as §7
 * allows. Everything dropped is counted by reason in the session's summary line. The association ends with its
 * TCP control connection, or after {@code udp.idle-timeout} without a datagram.
 */
final class UdpAssociation {

  private static final Logger LOG = Socks5Session.LOG;
  /** Bounds the per-association caches against a client spraying destinations. */
  private static final int MAX_DESTINATIONS = 4096;

  /** A checked destination: where to send, or why not. */
  private record Route(InetAddress address, int port, String refusal) {
  }

  private final Socks5Session session;
  private final Socks5CommandRequest request;
  private final ProxyConfig.Udp settings;
  private final InetAddress clientIp;
  private final InetAddress announcedIp;
  private final int announcedPort;
  private final Map<String, Future<Route>> routes = new LinkedHashMap<>();
  private final Set<String> contacted = new HashSet<>();
  private final Map<String, Long> drops = new TreeMap<>();
  private DatagramSocket clientSide;
  private Future<DatagramSocket> outbound4;
  private Future<DatagramSocket> outbound6;
  private String lease;
  private InetAddress clientUdpIp;
  private int clientUdpPort = -1;
  /** The port of udp.ports this association holds (given back on release); 0 when the OS chose it. */
  private int heldPort;
  private long lastActivityNanos = System.nanoTime();
  private long datagramsUp;
  private long datagramsDown;
  private long bytesUp;
  private long bytesDown;

  UdpAssociation(Socks5Session session, Socks5CommandRequest request) {
    this.session = session;
    this.request = request;
    this.settings = session.config().udp();
    this.clientIp = IpLiterals.parse(session.clientIp());
    InetAddress announced = request.dstAddrType().equals(AddressType.DOMAIN) ? null : IpLiterals.parse(request.dstAddr());
    this.announcedIp = announced == null || announced.isAnyLocalAddress() ? null : announced;
    this.announcedPort = request.dstPort();
  }

  void start() {
    session.onFinish(this::release);
    session.summaryExtra(this::summary);
    Future<DatagramSocket> setup = session.authorize(null, null, 0)
        .compose(v -> session.openSession())
        .compose(v -> session.auth().openUdpAssociation(session.user(), session.clientIp()))
        .compose(verdict -> {
          if (!verdict.allowed()) {
            return Future.failedFuture(new RequestDeniedException(verdict));
          }
          lease = verdict.lease();
          return listen();
        });
    session.afterSetup(setup, this::release, socket -> {
      clientSide.handler(this::fromClient);
      InetAddress advertised = NodeEndpoint.advertised(settings.advertise(), bindHost(), session.socket());
      int port = clientSide.localAddress().port();
      session.replied(ReplyCode.SUCCEEDED);
      session.socket().write(Socks5Encoder.reply(ReplyCode.SUCCEEDED, advertised, port));
      session.endHandshake();
      session.phase("udp relay");
      session.onSweep(this::checkIdle);
      LOG.fine(() -> "session=" + session.id() + " UDP relay on " + advertised.getHostAddress() + ":" + port);
      // The control connection only tells us when the association ends: its FIN, or its close.
      ZeroCopy.copying(session.socket(), data -> {
        if (data.length() == 0) {
          session.finish("control connection ended");
        }
      });
      session.socket().resume();
    });
  }

  private String bindHost() {
    return NodeEndpoint.bindHost(settings.host(), session.socket());
  }

  private Future<DatagramSocket> listen() {
    return NodeEndpoint.listen(settings.ports(), "udp.ports", session.verticle().udpPorts(), port -> listenOn(bindHost(), port))
        .onSuccess(socket -> {
          // Recorded at once, not when the reply goes out: a session that ended meanwhile releases it.
          clientSide = socket;
          heldPort = settings.ports().low() == 0 && settings.ports().high() == 0 ? 0 : socket.localAddress().port();
        });
  }

  private Future<DatagramSocket> listenOn(String host, int port) {
    boolean v6 = IpLiterals.parse(host) instanceof Inet6Address;
    DatagramSocket socket = session.vertx().createDatagramSocket(new DatagramSocketOptions().setIpV6(v6));
    return socket.listen(port, host).recover(err -> {
      socket.close();
      return Future.failedFuture(err);
    });
  }

  private void fromClient(DatagramPacket packet) {
    InetAddress sender = IpLiterals.parse(packet.sender().hostAddress());
    int senderPort = packet.sender().port();
    if (!clientIp.equals(sender) || (announcedIp != null && !announcedIp.equals(sender))
        || (announcedPort != 0 && announcedPort != senderPort)) {
      drop("foreign-source");
      return;
    }
    Socks5UdpPacket.Decoded decoded = Socks5UdpPacket.decode(packet.data());
    if (decoded.packet() == null) {
      drop("malformed");
      LOG.fine(() -> "session=" + session.id() + " dropped a datagram: " + decoded.problem());
      return;
    }
    Socks5UdpPacket p = decoded.packet();
    if (p.frag() != 0) {
      drop("fragmented");
      return;
    }
    clientUdpIp = sender;
    clientUdpPort = senderPort;
    lastActivityNanos = System.nanoTime();
    route(p).onComplete(ar -> {
      if (session.isFinished()) {
        return;
      }
      if (ar.failed()) {
        drop("unresolved");
        return;
      }
      Route r = ar.result();
      if (r.refusal() != null) {
        drop(r.refusal());
        return;
      }
      // Remembered before sending: on loopback the answer can arrive before the send completes.
      remember(contacted, endpoint(r.address(), r.port()));
      outbound(r.address()).compose(out -> out.send(p.data(), r.port(), r.address().getHostAddress())).onComplete(sent -> {
        if (sent.succeeded()) {
          datagramsUp++;
          bytesUp += p.data().length();
        } else {
          drop("send-failed");
        }
      });
    });
  }

  /** The checked destination of {@code p}, resolved and authorized once per association. */
  private Future<Route> route(Socks5UdpPacket p) {
    String key = p.dstAddr() + "|" + p.dstPort();
    Future<Route> known = routes.get(key);
    if (known != null) {
      return known;
    }
    if (routes.size() >= MAX_DESTINATIONS) {
      routes.clear();
    }
    boolean named = p.dstAddrType().equals(AddressType.DOMAIN) && IpLiterals.parse(p.dstAddr()) == null;
    Future<InetAddress> address = named
        ? session.vertx().executeBlocking(() -> InetAddress.getByName(p.dstAddr()), false)
        : Future.succeededFuture(IpLiterals.parse(p.dstAddr()));
    Future<Route> route = address.compose(a -> session.authorize(named ? p.dstAddr() : null, a, p.dstPort())
        .map(v -> new Route(a, p.dstPort(), null))
        .recover(err -> err instanceof RequestDeniedException d && !Verdict.LIMIT.equals(d.verdict().reason())
            ? Future.succeededFuture(new Route(a, p.dstPort(), "denied"))
            : Future.failedFuture(err)));
    routes.put(key, route);
    return route;
  }

  /** The outbound socket for {@code to}'s family, bound on the wildcard address so replies come back to it. */
  private Future<DatagramSocket> outbound(InetAddress to) {
    boolean v6 = to instanceof Inet6Address;
    Future<DatagramSocket> existing = v6 ? outbound6 : outbound4;
    if (existing != null) {
      return existing;
    }
    DatagramSocket s = session.vertx().createDatagramSocket(new DatagramSocketOptions().setIpV6(v6));
    s.handler(this::fromRemote);
    Future<DatagramSocket> bound = s.listen(0, v6 ? "::" : "0.0.0.0");
    if (v6) {
      outbound6 = bound;
    } else {
      outbound4 = bound;
    }
    return bound;
  }

  private void fromRemote(DatagramPacket packet) {
    String source = packet.sender().hostAddress();
    InetAddress sourceIp = IpLiterals.parse(source);
    if (sourceIp == null || !contacted.contains(endpoint(sourceIp, packet.sender().port()))) {
      drop("unsolicited");
      return;
    }
    if (clientUdpPort < 0) {
      drop("no-client-yet");
      return;
    }
    lastActivityNanos = System.nanoTime();
    Buffer wrapped = Socks5UdpPacket.encode(sourceIp, packet.sender().port(), packet.data());
    clientSide.send(wrapped, clientUdpPort, clientUdpIp.getHostAddress()).onComplete(ar -> {
      if (ar.succeeded()) {
        datagramsDown++;
        bytesDown += packet.data().length();
      } else {
        drop("send-failed");
      }
    });
  }

  private void checkIdle(long nowNanos) {
    if (nowNanos - lastActivityNanos > settings.idleTimeout().toNanos()) {
      session.finish("udp idle timeout");
    }
  }

  private void drop(String reason) {
    drops.merge(reason, 1L, Long::sum);
  }

  /** An address and port as a set key, ignoring IPv6 scope ids and text forms. */
  private static String endpoint(InetAddress address, int port) {
    return java.util.HexFormat.of().formatHex(address.getAddress()) + "|" + port;
  }

  private static void remember(Set<String> set, String value) {
    if (set.size() >= MAX_DESTINATIONS) {
      set.clear();
    }
    set.add(value);
  }

  /** Counters for the summary line: datagrams and bytes each way, drops by reason. */
  private String summary() {
    StringBuilder b = new StringBuilder()
        .append("udp_up=").append(datagramsUp).append('/').append(bytesUp)
        .append(" udp_down=").append(datagramsDown).append('/').append(bytesDown);
    drops.forEach((reason, n) -> b.append(" dropped_").append(reason.replace('-', '_')).append('=').append(n));
    return b.toString();
  }

  private void release() {
    Future<Void> closed = clientSide == null ? Future.succeededFuture() : clientSide.close();
    int port = heldPort;
    heldPort = 0;
    if (port != 0) {
      // Only once the socket is closed: the next association given this port must be able to bind it.
      closed.onComplete(v -> session.verticle().udpPorts().give(port));
    }
    for (Future<DatagramSocket> out : Arrays.asList(outbound4, outbound6)) {
      if (out != null) {
        out.onSuccess(DatagramSocket::close);
      }
    }
    clientSide = null;
    outbound4 = null;
    outbound6 = null;
    session.auth().closeSession(lease);
    lease = null;
  }
}
