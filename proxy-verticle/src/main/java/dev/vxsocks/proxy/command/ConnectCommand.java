package dev.vxsocks.proxy.command;

import dev.vxsocks.auth.api.AuthUnavailableException;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.proxy.Phase;
import dev.vxsocks.proxy.RequestDeniedException;
import dev.vxsocks.proxy.codec.AddressType;
import dev.vxsocks.proxy.codec.Socks5CommandRequest;
import io.vertx.core.Future;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
import java.util.List;
import java.util.logging.Logger;

/**
 * CONNECT (RFC 1928 §4, §6): resolve the destination, authorize each address against the rules (the slot is taken
 * with the first), connect to the first that answers, then reply with the upstream socket's local address and relay.
 */
public final class ConnectCommand {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.session");

  private final CommandContext session;
  private final NodeServices node;
  private final Socks5CommandRequest request;
  /** The name the client sent, or null when it sent an address. */
  private final String host;

  public ConnectCommand(CommandContext session, NodeServices node, Socks5CommandRequest request) {
    this.session = session;
    this.node = node;
    this.request = request;
    this.host = request.dstAddrType().equals(AddressType.DOMAIN) ? request.dstAddr() : null;
  }

  public void start() {
    resolve().compose(addresses -> connect(addresses, 0)).onComplete(ar -> {
      if (ar.failed()) {
        session.fail(ar.cause());
      } else if (session.ended()) {
        ar.result().close();
      } else {
        SocketAddress local = ar.result().localAddress();
        session.relay(ar.result(), IpLiterals.parse(local.hostAddress()), local.port());
      }
    });
  }

  /** The destination's addresses: the literal one, or the name's (a name may be written as a literal, too). */
  private Future<List<InetAddress>> resolve() {
    InetAddress literal = IpLiterals.parse(request.dstAddr());
    if (literal != null) {
      return Future.succeededFuture(List.of(literal));
    }
    session.phase(Phase.RESOLVE);
    return node.resolver().resolve(request.dstAddr());
  }

  /**
   * Authorizes and connects to {@code addresses[i]}, moving on to the next address of a name when one refuses or
   * cannot be reached.
   */
  private Future<NetSocket> connect(List<InetAddress> addresses, int i) {
    InetAddress address = addresses.get(i);
    return session.authorizeAndOpen(host, address, request.dstPort())
        .compose(v -> {
          if (session.ended()) {
            return Future.failedFuture("session ended");
          }
          session.phase(Phase.CONNECT);
          long start = System.nanoTime();
          // The timeout travels with each connect: a configuration applied live changes it for new sessions.
          return node.connector().connect(new ConnectOptions()
              .setRemoteAddress(SocketAddress.inetSocketAddress(request.dstPort(), address.getHostAddress()))
              .setTimeout((int) Math.min(Integer.MAX_VALUE, session.config().timeouts().connect().toMillis())))
              .andThen(ar -> node.metrics().connect(System.nanoTime() - start));
        })
        .recover(err -> {
          // A name's next address is worth trying after a refused connect or a rule that denies this address; not
          // after a session limit or an auth verticle failure, which the next address would meet again.
          boolean another = i + 1 < addresses.size() && !session.ended() && !(err instanceof AuthUnavailableException)
              && !(err instanceof RequestDeniedException denied && denied.isLimit());
          if (another) {
            LOG.fine(() -> "session=" + session.id() + " " + address.getHostAddress() + " failed (" + err
                + "), trying the next address");
            return connect(addresses, i + 1);
          }
          return Future.failedFuture(err);
        });
  }
}
