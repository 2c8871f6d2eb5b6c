package dev.vxsocks.proxy.command;

import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.proxy.ProxyMetrics;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;

/**
 * What commands share within one connection verticle: its Vert.x, the auth verticle's client, the upstream connector,
 * the resolver, and the node's port allocators for {@code bind.ports} and {@code udp.ports} (shared by every
 * instance, so that no two sessions of the node hold one port), and the node's metrics.
 */
public record NodeServices(Vertx vertx, AuthClient auth, NetClient connector, Resolver resolver,
                           PortAllocator bindPorts, PortAllocator udpPorts, ProxyMetrics metrics) {
}
