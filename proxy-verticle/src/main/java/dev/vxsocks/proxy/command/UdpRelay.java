package dev.vxsocks.proxy.command;

import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.proxy.ProxyMetrics;
import dev.vxsocks.proxy.RequestDeniedException;
import dev.vxsocks.proxy.codec.AddressType;
import dev.vxsocks.proxy.codec.Socks5UdpPacket;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The datagram half of UDP ASSOCIATE (RFC 1928 §7), once the client-side socket is bound and the reply sent.
 * Datagrams are accepted only from the client's IP (and from the DST.ADDR/DST.PORT it announced, when non-zero);
 * each is unwrapped, its destination resolved and checked against the rules once per association, and sent from a
 * separate outbound socket per address family. Answers are accepted only from destinations the client has sent to,
 * wrapped in a header naming their source, and sent back. Everything dropped is counted by {@link UdpDrop}.
 */
final class UdpRelay {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.session");
  /** Bounds the per-association caches against a client spraying destinations. */
  private static final int MAX_DESTINATIONS = 4096;

  /** A checked destination: where to send, or why not. */
  private record Route(InetAddress address, int port, UdpDrop refusal) {
  }

  private final CommandContext session;
  private final NodeServices node;
  private final DatagramSocket clientSide;
  private final InetAddress clientIp;
  private final InetAddress announcedIp;
  private final int announcedPort;
  /** A GSS-API level in force: every datagram to and from the client is wrapped. Null otherwise. */
  private final DatagramProtection protection;
  private final Map<String, Future<Route>> routes = new LinkedHashMap<>();
  private final Set<String> contacted = new HashSet<>();
  private final Map<UdpDrop, Long> drops = new EnumMap<>(UdpDrop.class);
  private Future<DatagramSocket> outbound4;
  private Future<DatagramSocket> outbound6;
  private InetAddress clientUdpIp;
  private int clientUdpPort = -1;
  private long lastActivityNanos = System.nanoTime();
  private long datagramsUp;
  private long datagramsDown;
  private long bytesUp;
  private long bytesDown;

  UdpRelay(CommandContext session, NodeServices node, DatagramSocket clientSide, InetAddress announcedIp,
           int announcedPort) {
    this.session = session;
    this.node = node;
    this.clientSide = clientSide;
    this.clientIp = session.clientAddress();
    this.announcedIp = announcedIp;
    this.announcedPort = announcedPort;
    this.protection = session.datagramProtection();
  }

  void start() {
    clientSide.handler(this::fromClient);
  }

  long lastActivityNanos() {
    return lastActivityNanos;
  }

  private void fromClient(DatagramPacket packet) {
    InetAddress sender = IpLiterals.parse(packet.sender().hostAddress());
    int senderPort = packet.sender().port();
    if (!clientIp.equals(sender) || (announcedIp != null && !announcedIp.equals(sender))
        || (announcedPort != 0 && announcedPort != senderPort)) {
      drop(UdpDrop.FOREIGN_SOURCE);
      return;
    }
    Buffer data = packet.data();
    if (protection != null) {
      try {
        data = protection.unwrapDatagram(data);
      } catch (Exception e) {
        drop(UdpDrop.MALFORMED);
        LOG.fine(() -> "session=" + session.id() + " dropped a datagram that does not unwrap: " + e.getMessage());
        return;
      }
    }
    Socks5UdpPacket.Decoded decoded = Socks5UdpPacket.decode(data);
    if (decoded.packet() == null) {
      drop(UdpDrop.MALFORMED);
      LOG.fine(() -> "session=" + session.id() + " dropped a datagram: " + decoded.problem());
      return;
    }
    Socks5UdpPacket p = decoded.packet();
    if (p.frag() != 0) {
      drop(UdpDrop.FRAGMENTED);
      return;
    }
    clientUdpIp = sender;
    clientUdpPort = senderPort;
    lastActivityNanos = System.nanoTime();
    route(p).onComplete(ar -> {
      if (session.ended()) {
        return;
      }
      if (ar.failed()) {
        drop(UdpDrop.UNRESOLVED);
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
          drop(UdpDrop.SEND_FAILED);
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
    InetAddress literal = IpLiterals.parse(p.dstAddr());
    boolean named = p.dstAddrType().equals(AddressType.DOMAIN) && literal == null;
    Future<InetAddress> address = named
        ? node.resolver().resolve(p.dstAddr()).map(all -> all.get(0))
        : Future.succeededFuture(literal);
    Future<Route> route = address.compose(a -> session.authorize(named ? p.dstAddr() : null, a, p.dstPort())
        .map(v -> new Route(a, p.dstPort(), null))
        .recover(err -> err instanceof RequestDeniedException denied && !denied.isLimit()
            ? Future.succeededFuture(new Route(a, p.dstPort(), UdpDrop.DENIED))
            : Future.failedFuture(err)));
    routes.put(key, route);
    return route;
  }

  /** The outbound socket for {@code to}'s family, bound on the wildcard address so answers come back to it. */
  private Future<DatagramSocket> outbound(InetAddress to) {
    boolean v6 = to instanceof Inet6Address;
    Future<DatagramSocket> existing = v6 ? outbound6 : outbound4;
    if (existing != null) {
      return existing;
    }
    DatagramSocket s = node.vertx().createDatagramSocket(new DatagramSocketOptions().setIpV6(v6));
    s.handler(this::fromRemote);
    Future<DatagramSocket> bound = s.listen(0, v6 ? "::" : "0.0.0.0");
    if (v6) {
      outbound6 = bound;
    } else {
      outbound4 = bound;
    }
    bound.onFailure(err -> {
      // Forgotten, so that the next datagram tries again instead of meeting this failure for the whole association.
      s.close();
      if (outbound6 == bound) {
        outbound6 = null;
      } else if (outbound4 == bound) {
        outbound4 = null;
      }
      LOG.fine(() -> "session=" + session.id() + " no outbound UDP socket: " + err.getMessage());
    });
    return bound;
  }

  private void fromRemote(DatagramPacket packet) {
    InetAddress sourceIp = IpLiterals.parse(packet.sender().hostAddress());
    if (sourceIp == null || !contacted.contains(endpoint(sourceIp, packet.sender().port()))) {
      drop(UdpDrop.UNSOLICITED);
      return;
    }
    if (clientUdpPort < 0) {
      drop(UdpDrop.NO_CLIENT_YET);
      return;
    }
    lastActivityNanos = System.nanoTime();
    Buffer wrapped = Socks5UdpPacket.encode(sourceIp, packet.sender().port(), packet.data());
    if (protection != null) {
      try {
        wrapped = protection.wrapDatagram(wrapped);
      } catch (Exception e) {
        drop(UdpDrop.SEND_FAILED);
        return;
      }
    }
    clientSide.send(wrapped, clientUdpPort, clientUdpIp.getHostAddress()).onComplete(ar -> {
      if (ar.succeeded()) {
        datagramsDown++;
        bytesDown += packet.data().length();
      } else {
        drop(UdpDrop.SEND_FAILED);
      }
    });
  }

  private void drop(UdpDrop reason) {
    drops.merge(reason, 1L, Long::sum);
  }

  /** An address and port as a set key, ignoring IPv6 scope ids and text forms. */
  private static String endpoint(InetAddress address, int port) {
    return HexFormat.of().formatHex(address.getAddress()) + "|" + port;
  }

  private static void remember(Set<String> set, String value) {
    if (set.size() >= MAX_DESTINATIONS) {
      set.clear();
    }
    set.add(value);
  }

  /** Counters for the summary line: datagrams and bytes each way, drops by reason. */
  String summary() {
    StringBuilder b = new StringBuilder()
        .append("udp_up=").append(datagramsUp).append('/').append(bytesUp)
        .append(" udp_down=").append(datagramsDown).append('/').append(bytesDown);
    drops.forEach((reason, n) -> b.append(' ').append(reason.field()).append('=').append(n));
    return b.toString();
  }

  /** Adds this association's datagrams and drops to the node's metrics (once: at its end). */
  void report(ProxyMetrics metrics) {
    metrics.udp(datagramsUp, datagramsDown, drops);
  }

  /** Closes the outbound sockets (the client-side one belongs to the command). */
  void close() {
    Future<DatagramSocket> v4 = outbound4;
    Future<DatagramSocket> v6 = outbound6;
    outbound4 = null;
    outbound6 = null;
    // Also one still binding: closed once bound.
    if (v4 != null) {
      v4.onSuccess(DatagramSocket::close);
    }
    if (v6 != null) {
      v6.onSuccess(DatagramSocket::close);
    }
  }
}
