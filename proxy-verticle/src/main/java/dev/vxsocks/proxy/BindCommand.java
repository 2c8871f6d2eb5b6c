package dev.vxsocks.proxy;

import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.codec.AddressType;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5CommandRequest;
import dev.vxsocks.proxy.codec.Socks5Encoder;
import dev.vxsocks.proxy.transport.ZeroCopy;
import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.Future;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;

import java.net.InetAddress;
import java.util.logging.Logger;

/**
 * BIND (RFC 1928 §4, §6): listen on the node's bind address, send the first reply with that address and port, accept
 * exactly one connection (from DST.ADDR when the client named one), send the second reply with the peer's address,
 * then relay as for CONNECT. Connections after the first, or from another address, are closed at once. The listening
 * socket is closed at the deadline or when the session ends.
 */
final class BindCommand {

  private static final Logger LOG = Socks5Session.LOG;

  private final Socks5Session session;
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

  BindCommand(Socks5Session session, Socks5CommandRequest request) {
    this.session = session;
    this.request = request;
    this.settings = session.config().bind();
    InetAddress named = request.dstAddrType().equals(AddressType.DOMAIN) ? null : IpLiterals.parse(request.dstAddr());
    this.expectedPeer = named == null || named.isAnyLocalAddress() ? null : named;
  }

  void start() {
    session.onFinish(this::release);
    Future<NetServer> setup = session.authorize(null, expectedPeer, request.dstPort())
        .compose(v -> session.openSession())
        .compose(v -> listen());
    session.afterSetup(setup, this::release, server -> {
      InetAddress advertised = NodeEndpoint.advertised(settings.advertise(), bindHost(), session.socket());
      session.phase("bind wait");
      session.endHandshake();
      session.socket().write(Socks5Encoder.reply(ReplyCode.SUCCEEDED, advertised, server.actualPort()));
      LOG.fine(() -> "session=" + session.id() + " BIND listening on " + advertised.getHostAddress() + ":" + server.actualPort()
          + (expectedPeer == null ? " for any peer" : " for " + expectedPeer.getHostAddress()));
      deadline = session.vertx().setTimer(settings.acceptTimeout().toMillis(), t -> {
        deadline = -1;
        release();
        session.fail(new ConnectTimeoutException("no peer connected within " + settings.acceptTimeout().toSeconds()
            + "s (bind.accept-timeout)" + (refusedPeers > 0 ? "; refused " + refusedPeers + " from other addresses" : "")));
      });
    });
  }

  private String bindHost() {
    return NodeEndpoint.bindHost(settings.host(), session.socket());
  }

  private Future<NetServer> listen() {
    return NodeEndpoint.listen(settings.ports(), "bind.ports", session.verticle().bindPorts(), this::listenOn);
  }

  private Future<NetServer> listenOn(int port) {
    NetServer server = session.vertx().createNetServer(new NetServerOptions()
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
    if (accepted || session.isFinished()) {
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
    session.phase("bind accept");
    session.authorize(null, peerIp, peer.remoteAddress().port()).onComplete(ar -> {
      if (ar.failed() || session.isFinished()) {
        peer.close();
        session.fail(ar.failed() ? ar.cause() : new IllegalStateException("session ended"));
      } else {
        session.relay(peer, peerIp, peer.remoteAddress().port());
      }
    });
  }

  private void cancelDeadline() {
    if (deadline >= 0) {
      session.vertx().cancelTimer(deadline);
      deadline = -1;
    }
  }

  private void release() {
    cancelDeadline();
    Future<Void> closed = listener == null ? Future.succeededFuture() : listener.close();
    listener = null;
    int port = heldPort;
    heldPort = 0;
    if (port != 0) {
      // Only once the socket is closed: the next session given this port must be able to bind it.
      closed.onComplete(v -> session.verticle().bindPorts().give(port));
    }
  }
}
