package dev.vxsocks.proxy.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.ClientOptionsBase;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.transport.Transport;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * {@link SocketTransport} on Vert.x's transport SPI ({@code io.vertx.core.spi.transport.Transport}, whose methods hand
 * over Netty's bootstraps): the native transport, wrapped so that after Vert.x configures a bootstrap the options
 * {@link SocketTransport#isNoOp} names are taken out again.
 *
 * <p>Every listening channel also gets {@link AcceptBackoff} (a failed accept pauses accepting for 100 ms, logged
 * once per interval), through the server bootstrap's handler, which Vert.x leaves unset.
 *
 * <p>Uses: every method of that SPI and of {@code io.vertx.core.transport.Transport}, implemented here by delegation;
 * a Vert.x that adds one would otherwise fail with {@code AbstractMethodError} when it calls it. Guarded by
 * {@code VertxInternalsTest} and {@code SocketTransportTest}.
 */
final class LeanTransport implements SocketTransport.Path {

  /** Fails when this Vert.x's transport interfaces have a method the wrappers below do not implement. */
  LeanTransport() throws NoSuchMethodException {
    implementsAll(Transport.class, Lean.class);
    implementsAll(io.vertx.core.spi.transport.Transport.class, Spi.class);
  }

  @Override
  public Transport preferred() {
    Transport epoll = SocketTransport.epoll();
    return epoll == null ? Transport.NIO : new Lean(epoll);
  }

  private static void implementsAll(Class<?> api, Class<?> wrapper) throws NoSuchMethodException {
    for (Method m : api.getMethods()) {
      if (Modifier.isAbstract(m.getModifiers())
          && Modifier.isAbstract(wrapper.getMethod(m.getName(), m.getParameterTypes()).getModifiers())) {
        throw new NoSuchMethodException(wrapper.getName() + " does not implement " + m);
      }
    }
  }

  /** Removes from a bootstrap the options {@link SocketTransport#isNoOp} says a new socket has anyway. */
  private static void dropNoOps(Map<ChannelOption<?>, Object> options, Consumer<ChannelOption<?>> remove) {
    options.forEach((option, value) -> {
      if (SocketTransport.isNoOp(option, value)) {
        remove.accept(option);
      }
    });
  }

  // Netty removes an option when it is set to null; the raw cast is what its generic signature needs for that.
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void removeOption(Bootstrap bootstrap, ChannelOption<?> option) {
    bootstrap.option((ChannelOption) option, null);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void removeChildOption(ServerBootstrap bootstrap, ChannelOption<?> option) {
    bootstrap.childOption((ChannelOption) option, null);
  }

  private record ClientNoOps(ClientOptionsBase options, int connectTimeout, boolean domainSocket,
      List<ChannelOption<?>> drop) {
  }

  /** The public face Vert.x's builder takes. */
  private record Lean(Transport delegate, Spi spi) implements Transport {
    Lean(Transport delegate) {
      this(delegate, new Spi(delegate.implementation()));
    }

    @Override
    public String name() {
      return delegate.name();
    }

    @Override
    public boolean available() {
      return delegate.available();
    }

    @Override
    public Throwable unavailabilityCause() {
      return delegate.unavailabilityCause();
    }

    @Override
    public io.vertx.core.spi.transport.Transport implementation() {
      return spi;
    }
  }

  /** Everything as the native transport does it, except the no-op options. */
  private static final class Spi implements io.vertx.core.spi.transport.Transport {
    private static final int MAX_CLIENTS = 8;
    private final io.vertx.core.spi.transport.Transport d;
    /** The no-op options of the clients configured last, newest first. */
    private volatile ClientNoOps[] clientNoOps = new ClientNoOps[0];

    Spi(io.vertx.core.spi.transport.Transport delegate) {
      this.d = delegate;
    }

    @Override
    public void configure(NetServerOptions options, boolean domainSocket, ServerBootstrap bootstrap) {
      d.configure(options, domainSocket, bootstrap);
      dropNoOps(bootstrap.config().childOptions(), option -> removeChildOption(bootstrap, option));
      bootstrap.handler(AcceptBackoff.around(bootstrap.config().handler()));
    }

    @Override
    public void configure(ClientOptionsBase options, int connectTimeout, boolean domainSocket, Bootstrap bootstrap) {
      d.configure(options, connectTimeout, domainSocket, bootstrap);
      for (ChannelOption<?> option : noOps(options, connectTimeout, domainSocket, bootstrap)) {
        removeOption(bootstrap, option);
      }
    }

    /**
     * The no-op options {@link #configure} set on {@code bootstrap}, and SO_REUSEADDR on a socket that connects
     * without binding first. This runs for every upstream connection; which
     * options are no-ops depends only on the arguments, and a NetClient passes its same options object each time, so
     * the list is worked out once per client and connect timeout (reading the bootstrap's options copies its map).
     */
    private List<ChannelOption<?>> noOps(ClientOptionsBase options, int connectTimeout, boolean domainSocket,
        Bootstrap bootstrap) {
      ClientNoOps[] known = clientNoOps;
      for (ClientNoOps k : known) {
        if (k.options() == options && k.connectTimeout() == connectTimeout && k.domainSocket() == domainSocket) {
          return k.drop();
        }
      }
      List<ChannelOption<?>> drop = new ArrayList<>();
      dropNoOps(bootstrap.config().options(), drop::add);
      // SO_REUSEADDR (Vert.x's default is on) only changes what bind(2) allows, and a client socket is bound only
      // when the options name a local address: without one the kernel picks the port at connect(2), where the flag
      // plays no part, so setting it is one more setsockopt per upstream connection for nothing.
      if (!domainSocket && bootstrap.config().localAddress() == null
          && bootstrap.config().options().containsKey(ChannelOption.SO_REUSEADDR)) {
        drop.add(ChannelOption.SO_REUSEADDR);
      }
      // Copy on write, newest first, at most a few (one client per verticle instance; a reload makes new ones).
      ClientNoOps[] next = new ClientNoOps[Math.min(known.length + 1, MAX_CLIENTS)];
      next[0] = new ClientNoOps(options, connectTimeout, domainSocket, List.copyOf(drop));
      System.arraycopy(known, 0, next, 1, next.length - 1);
      clientNoOps = next;
      return next[0].drop();
    }

    @Override
    public void configure(DatagramChannel channel, DatagramSocketOptions options) {
      d.configure(channel, options);
    }

    @Override
    public boolean supportsDomainSockets() {
      return d.supportsDomainSockets();
    }

    @Override
    public boolean supportFileRegion() {
      return d.supportFileRegion();
    }

    @Override
    public boolean isAvailable() {
      return d.isAvailable();
    }

    @Override
    public Throwable unavailabilityCause() {
      return d.unavailabilityCause();
    }

    @Override
    public SocketAddress convert(io.vertx.core.net.SocketAddress address) {
      return d.convert(address);
    }

    @Override
    public io.vertx.core.net.SocketAddress convert(SocketAddress address) {
      return d.convert(address);
    }

    @Override
    public IoHandlerFactory ioHandlerFactory() {
      return d.ioHandlerFactory();
    }

    @Override
    public EventLoopGroup eventLoopGroup(int type, int nThreads, ThreadFactory threadFactory, int ioRatio) {
      return d.eventLoopGroup(type, nThreads, threadFactory, ioRatio);
    }

    @Override
    public DatagramChannel datagramChannel() {
      return d.datagramChannel();
    }

    @Override
    public DatagramChannel datagramChannel(InternetProtocolFamily family) {
      return d.datagramChannel(family);
    }

    @Override
    public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
      return d.channelFactory(domainSocket);
    }

    @Override
    public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
      return d.serverChannelFactory(domainSocket);
    }
  }
}
