package dev.vxsocks.proxy.command;

import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.proxy.Phase;
import io.vertx.core.Future;
import io.vertx.core.net.NetSocket;

import java.net.InetAddress;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What a command may do with the session it serves: the session keeps the socket's lifecycle, the timers, the slot
 * and the summary line; a command asks it to authorize, to take the slot, to reply, to relay, and registers what must
 * be released when the session ends. All of it on the session's event loop.
 */
public interface CommandContext {

  /** The session id, for log lines. */
  String id();

  /** The configuration this session started with (a live change applies to new sessions). */
  ProxyConfig config();

  /** The client's address: the peer's, or the one a trusted balancer's PROXY header named. */
  InetAddress clientAddress();

  /** The authenticated user, or null. */
  String user();

  /**
   * The client's TCP connection: its local address (where BIND and UDP ASSOCIATE open their sockets when the
   * configuration does not say) and, for UDP ASSOCIATE, its end. Commands do not write to it: they reply through
   * this context.
   */
  NetSocket control();

  /** Names what the session is doing now, for its log lines. */
  void phase(Phase phase);

  /**
   * The request rules for this command to {@code host}/{@code address}:{@code port} (both null: no particular
   * destination). Fails with a {@code RequestDeniedException} when refused.
   */
  Future<Void> authorize(String host, InetAddress address, int port);

  /** As {@link #authorize}, and takes the session's slot in the same round trip unless it is already held. */
  Future<Void> authorizeAndOpen(String host, InetAddress address, int port);

  /** Takes the session's slot under the session limits (once); fails with a {@code RequestDeniedException}. */
  Future<Void> openSession();

  /**
   * Sends the success reply carrying {@code bndAddr}:{@code bndPort} without a relay behind it: BIND's first reply,
   * UDP ASSOCIATE's only one. The handshake is over.
   */
  void replied(InetAddress bndAddr, int bndPort);

  /**
   * Sends the success reply carrying {@code bndAddr}:{@code bndPort}, hands the client's pipelined bytes to
   * {@code peer}, and relays until both sides are done. {@code peer} must be held ({@code ZeroCopy.hold}).
   */
  void relay(NetSocket peer, InetAddress bndAddr, int bndPort);

  /** Replies with the code {@code cause} carries (or {@code ReplyCodes} maps), then ends the session. */
  void fail(Throwable cause);

  /** Ends the session now with {@code reason} in its summary line. */
  void end(String reason);

  boolean ended();

  /** Runs when the session ends, whatever the reason (releases a command's sockets and ports). */
  void onEnd(Runnable release);

  /** Called by the verticle's one-second sweep while the session lasts. */
  void onSweep(TimeoutCheck check);

  /** More fields for the summary line (a UDP association's counters). */
  void summary(Supplier<String> fields);

  /** The protection UDP datagrams need (a GSS-API level in force), or null: datagrams as they are. */
  default DatagramProtection datagramProtection() {
    return null;
  }

  /** A command's own timer check. */
  interface TimeoutCheck {
    void check(long nowNanos);
  }

  /**
   * The end of a command's setup chain: when {@code setup} failed, {@code release} what it took and reply with the
   * failure; when the session ended meanwhile, only release; otherwise go on with {@code ready}.
   */
  default <T> void afterSetup(Future<T> setup, Runnable release, Consumer<T> ready) {
    setup.onComplete(ar -> {
      if (ar.failed()) {
        release.run();
        fail(ar.cause());
      } else if (ended()) {
        release.run();
      } else {
        ready.accept(ar.result());
      }
    });
  }
}
