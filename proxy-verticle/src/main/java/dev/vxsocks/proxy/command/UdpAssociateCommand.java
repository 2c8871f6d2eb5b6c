package dev.vxsocks.proxy.command;

import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.Phase;
import dev.vxsocks.proxy.RequestDeniedException;
import dev.vxsocks.proxy.codec.AddressType;
import dev.vxsocks.proxy.codec.Socks5CommandRequest;
import dev.vxsocks.proxy.transport.ZeroCopy;
import io.vertx.core.Future;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.logging.Logger;

/**
 * UDP ASSOCIATE (RFC 1928 §4, §6, §7): authorize, take the session slot and the association slot, bind the
 * client-facing socket on the node's UDP address (a port of {@code udp.ports} this association alone holds), reply
 * with that address (never a balancer's), then hand the datagrams to a {@link UdpRelay}. The association ends with
 * its TCP control connection, or after {@code udp.idle-timeout} without a datagram.
 */
public final class UdpAssociateCommand {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.session");

  private final CommandContext session;
  private final NodeServices node;
  private final ProxyConfig.Udp settings;
  private final InetAddress announcedIp;
  private final int announcedPort;
  private DatagramSocket clientSide;
  /** The port of udp.ports this association holds (given back on release); 0 when the OS chose it. */
  private int heldPort;
  private String lease;
  private UdpRelay relay;

  public UdpAssociateCommand(CommandContext session, NodeServices node, Socks5CommandRequest request) {
    this.session = session;
    this.node = node;
    this.settings = session.config().udp();
    InetAddress announced = request.dstAddrType().equals(AddressType.DOMAIN) ? null : IpLiterals.parse(request.dstAddr());
    this.announcedIp = announced == null || announced.isAnyLocalAddress() ? null : announced;
    this.announcedPort = request.dstPort();
  }

  public void start() {
    session.onEnd(this::release);
    Future<DatagramSocket> setup = session.authorize(null, null, 0)
        .compose(v -> session.openSession())
        .compose(v -> {
          session.phase(Phase.UDP_SETUP);
          return node.auth().openUdpAssociation(session.user(), session.clientAddress().getHostAddress());
        })
        .compose(verdict -> {
          if (!verdict.allowed()) {
            return Future.failedFuture(new RequestDeniedException(verdict));
          }
          // Kept at once, not when the reply goes out: a session that ended meanwhile gives it back on release.
          lease = verdict.lease();
          if (session.ended()) {
            return Future.failedFuture("session ended");
          }
          return listen();
        });
    session.afterSetup(setup, this::release, socket -> {
      InetAddress advertised = NodeEndpoint.advertised(settings.advertise(), bindHost(), session.control());
      int port = socket.localAddress().port();
      relay = new UdpRelay(session, node, socket, announcedIp, announcedPort);
      relay.start();
      session.summary(relay::summary);
      session.replied(advertised, port);
      session.phase(Phase.UDP_RELAY);
      session.onSweep(this::checkIdle);
      LOG.fine(() -> "session=" + session.id() + " UDP relay on " + advertised.getHostAddress() + ":" + port);
      // The control connection only tells us when the association ends: its FIN, or its close.
      ZeroCopy.copying(session.control(), data -> {
        if (data.length() == 0) {
          session.end("control connection ended");
        }
      });
      session.control().resume();
    });
  }

  private String bindHost() {
    return NodeEndpoint.bindHost(settings.host(), session.control());
  }

  private Future<DatagramSocket> listen() {
    boolean fromRange = !(settings.ports().low() == 0 && settings.ports().high() == 0);
    return NodeEndpoint.listen(settings.ports(), "udp.ports", node.udpPorts(), port -> listenOn(bindHost(), port))
        .onSuccess(socket -> {
          // Recorded at once, not when the reply goes out: a session that ended meanwhile releases it.
          clientSide = socket;
          heldPort = fromRange ? socket.localAddress().port() : 0;
        });
  }

  private Future<DatagramSocket> listenOn(String host, int port) {
    boolean v6 = IpLiterals.parse(host) instanceof Inet6Address;
    DatagramSocket socket = node.vertx().createDatagramSocket(new DatagramSocketOptions().setIpV6(v6));
    return socket.listen(port, host).recover(err -> {
      socket.close();
      return Future.failedFuture(err);
    });
  }

  private void checkIdle(long nowNanos) {
    if (relay != null && nowNanos - relay.lastActivityNanos() > settings.idleTimeout().toNanos()) {
      session.end("udp idle timeout");
    }
  }

  /** Idempotent: runs at the session's end, and again when a setup step completes after it. */
  private void release() {
    if (relay != null) {
      relay.close();
      relay.report(node.metrics());
      relay = null;
    }
    node.udpPorts().giveWhenClosed(heldPort, clientSide == null ? Future.succeededFuture() : clientSide.close());
    clientSide = null;
    heldPort = 0;
    node.auth().closeSession(lease);
    lease = null;
  }
}
