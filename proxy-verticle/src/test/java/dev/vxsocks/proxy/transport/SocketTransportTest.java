package dev.vxsocks.proxy.transport;

import dev.vxsocks.testing.Transports;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The node's transport ({@link SocketTransport}) skips socket options that are no-ops; these are the
 * options the sockets then really have, read back from the kernel: what was configured holds, defaults stay defaults.
 */
class SocketTransportTest {

  @Test
  void configuredOptionsHoldAndDefaultsStayDefaults() throws Exception {
    Vertx vertx = Transports.nativeVertx();
    try {
      assertThat(vertx.isNativeTransportEnabled()).isTrue();
      Promise<Channel> accepted = Promise.promise();
      NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0)
          .setTcpNoDelay(true).setTcpKeepAlive(true).setTcpUserTimeout(7000));
      server.connectHandler(s -> accepted.tryComplete(Transports.channel(s)));
      server.listen().await(10, TimeUnit.SECONDS);
      NetSocket client = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true))
          .connect(server.actualPort(), "127.0.0.1").await(10, TimeUnit.SECONDS);
      Channel in = accepted.future().await(10, TimeUnit.SECONDS);
      Channel out = Transports.channel(client);

      // Configured away from the defaults: still applied.
      assertThat(in.config().getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
      assertThat(in.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).isEqualTo(7000);
      // Configured to what a new socket has: true either way.
      assertThat(in.config().getOption(ChannelOption.TCP_NODELAY)).isTrue();
      assertThat(out.config().getOption(ChannelOption.TCP_NODELAY)).isTrue();
      assertThat(out.config().getOption(ChannelOption.SO_KEEPALIVE)).isFalse();
      assertThat(out.config().getOption(EpollChannelOption.TCP_CORK)).isFalse();
      assertThat(out.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).isZero();
    } finally {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }

  /**
   * SO_REUSEADDR, which Vert.x turns on for every client, is left unset on a socket that connects without binding
   * (where it has no effect), and still set on one bound to a configured local address first.
   */
  @Test
  void reuseAddressOnlyWhereAClientBinds() throws Exception {
    Vertx vertx = Transports.nativeVertx();
    try {
      NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
      server.connectHandler(s -> { });
      server.listen().await(10, TimeUnit.SECONDS);
      NetClient unbound = vertx.createNetClient(new NetClientOptions().setReuseAddress(true));
      NetClient bound = vertx.createNetClient(new NetClientOptions().setReuseAddress(true)
          .setLocalAddress("127.0.0.1"));
      for (int i = 0; i < 2; i++) {
        Channel u = Transports.channel(unbound.connect(server.actualPort(), "127.0.0.1").await(10, TimeUnit.SECONDS));
        Channel b = Transports.channel(bound.connect(server.actualPort(), "127.0.0.1").await(10, TimeUnit.SECONDS));
        assertThat(u.config().getOption(ChannelOption.SO_REUSEADDR)).as("unbound, connection %d", i).isFalse();
        assertThat(b.config().getOption(ChannelOption.SO_REUSEADDR)).as("bound, connection %d", i).isTrue();
        u.close();
        b.close();
      }
    } finally {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }

  /**
   * The transport works out a client's no-op options once and reuses the list for the client's later connections:
   * two clients, one configured away from the defaults, each connecting twice, alternately.
   */
  @Test
  void aClientsLaterConnectionsGetTheSameOptions() throws Exception {
    Vertx vertx = Transports.nativeVertx();
    try {
      NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
      server.connectHandler(s -> { });
      server.listen().await(10, TimeUnit.SECONDS);
      NetClient plain = vertx.createNetClient(new NetClientOptions());
      NetClient tuned = vertx.createNetClient(new NetClientOptions().setTcpKeepAlive(true).setTcpUserTimeout(5000)
          .setTcpNoDelay(false));
      for (int i = 0; i < 2; i++) {
        Channel p = Transports.channel(plain.connect(server.actualPort(), "127.0.0.1").await(10, TimeUnit.SECONDS));
        Channel t = Transports.channel(tuned.connect(server.actualPort(), "127.0.0.1").await(10, TimeUnit.SECONDS));
        assertThat(p.config().getOption(ChannelOption.SO_KEEPALIVE)).as("plain, connection %d", i).isFalse();
        assertThat(p.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).as("plain, connection %d", i).isZero();
        assertThat(p.config().getOption(ChannelOption.TCP_NODELAY)).as("plain, connection %d", i).isTrue();
        assertThat(t.config().getOption(ChannelOption.SO_KEEPALIVE)).as("tuned, connection %d", i).isTrue();
        assertThat(t.config().getOption(EpollChannelOption.TCP_USER_TIMEOUT)).as("tuned, connection %d", i)
            .isEqualTo(5000);
        assertThat(t.config().getOption(ChannelOption.TCP_NODELAY)).as("tuned, connection %d", i).isFalse();
        p.close();
        t.close();
      }
    } finally {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
  }
}
