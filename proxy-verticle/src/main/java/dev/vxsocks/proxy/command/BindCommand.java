package dev.vxsocks.proxy.command;

import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.Phase;
import dev.vxsocks.proxy.codec.AddressType;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5CommandRequest;
import dev.vxsocks.proxy.codec.Socks5Failure;
import dev.vxsocks.proxy.transport.ZeroCopy;
import io.vertx.core.Future;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;

import java.net.InetAddress;
import java.util.logging.Logger;

/**
 * BIND (RFC 1928 §4, §6): listen on the node's bind address (a port of {@code bind.ports} this session alone holds),
 * send the first reply with that address and port, accept exactly one connection (from DST.ADDR when the client
 * named one), send the second reply with the peer's address, then relay as for CONNECT. Connections after the first,
 * or from another address, are closed at once. The listening socket is closed at the deadline or when the session
 * ends.
 */
public final class BindCommand {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.session");

  private final CommandContext session;
  private final NodeServices node;
  private final Socks5CommandRequest request;
  private final ProxyConfig.Bind settings;
  /** The only peer address accepted, or null for any (DST.ADDR all zeros). */
  private final InetAddress expectedPeer;
  private NetServer listener;
  /** The port of bind.ports this session holds (given back on release); 0 when the OS chose it. */
  private int heldPort;
  private long deadline = -1;
  private boolean accepted;
  private int refusedPeers;

  public BindCommand(CommandContext session, NodeServices node, Socks5CommandRequest request) {
    this.session = session;
    this.node = node;
    this.request = request;
    this.settings = session.config().bind();
    InetAddress named = request.dstAddrType().equals(AddressType.DOMAIN) ? null : IpLiterals.parse(request.dstAddr());
    this.expectedPeer = named == null || named.isAnyLocalAddress() ? null : named;
  }

  public void start() {
    session.onEnd(this::release);
    Future<NetServer> setup = session.authorize(null, expectedPeer, request.dstPort())
        .compose(v -> session.openSession())
        .compose(v -> listen());
    session.afterSetup(setup, this::release, server -> {
      InetAddress advertised = NodeEndpoint.advertised(settings.advertise(), bindHost(), session.control());
      session.phase(Phase.BIND_WAIT);
      session.replied(advertised, server.actualPort());
      LOG.fine(() -> "session=" + session.id() + " BIND listening on " + advertised.getHostAddress() + ":"
          + server.actualPort() + (expectedPeer == null ? " for any peer" : " for " + expectedPeer.getHostAddress()));
      deadline = node.vertx().setTimer(settings.acceptTimeout().toMillis(), t -> {
        deadline = -1;
        release();
        // 0x04: from the client's side, the host it expected never reached us, as with a connect that timed out.
        session.fail(new Socks5Failure(ReplyCode.HOST_UNREACHABLE, "no peer connected within "
            + settings.acceptTimeout().toSeconds() + "s (bind.accept-timeout)"
            + (refusedPeers > 0 ? "; refused " + refusedPeers + " from other addresses" : "")));
      });
    });
  }

  private String bindHost() {
    return NodeEndpoint.bindHost(settings.host(), session.control());
  }

  private Future<NetServer> listen() {
    return NodeEndpoint.listen(settings.ports(), "bind.ports", node.bindPorts(), this::listenOn);
  }

  private Future<NetServer> listenOn(int port) {
    NetServer server = node.vertx().createNetServer(new NetServerOptions()
        .setHost(bindHost()).setPort(port).setTcpNoDelay(true).setAcceptBacklog(4));
    server.connectHandler(this::onPeer);
    listener = server;
    return server.listen().onSuccess(s -> heldPort = port).recover(err -> {
      listener = null;
      server.close();
      return Future.failedFuture(err);
    });
  }

  private void onPeer(NetSocket peer) {
    InetAddress peerIp = IpLiterals.parse(peer.remoteAddress().hostAddress());
    if (accepted || session.ended()) {
      peer.close();
      return;
    }
    if (expectedPeer != null && !expectedPeer.equals(peerIp)) {
      refusedPeers++;
      LOG.fine(() -> "session=" + session.id() + " BIND refused a connection from " + peer.remoteAddress()
          + ", waiting for " + expectedPeer.getHostAddress());
      peer.close();
      return;
    }
    accepted = true;
    ZeroCopy.hold(peer);
    cancelDeadline();
    // The listener stays bound (refusing everyone else) until the session ends: closing a Vert.x NetServer also
    // closes the connections it accepted, the peer among them.
    session.phase(Phase.BIND_ACCEPT);
    session.authorize(null, peerIp, peer.remoteAddress().port()).onComplete(ar -> {
      if (ar.failed() || session.ended()) {
        peer.close();
        if (ar.failed()) {
          session.fail(ar.cause());
        }
      } else {
        session.relay(peer, peerIp, peer.remoteAddress().port());
      }
    });
  }

  private void cancelDeadline() {
    if (deadline >= 0) {
      node.vertx().cancelTimer(deadline);
      deadline = -1;
    }
  }

  private void release() {
    cancelDeadline();
    node.bindPorts().giveWhenClosed(heldPort, listener == null ? Future.succeededFuture() : listener.close());
    listener = null;
    heldPort = 0;
  }
}
