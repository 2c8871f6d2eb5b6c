package dev.vxsocks.proxy.command;

import dev.vxsocks.proxy.LogText;
import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5Failure;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's {@link Resolver}: the JDK's blocking lookup ({@link InetAddress#getAllByName}, with its own cache) on a
 * pool of its own, with a bounded queue. Its own, because lookups used to share Vert.x's worker pool with password
 * verification, so a slow DNS server held up logins, and a burst of logins held up lookups. Bounded, because a
 * resolver that stopped answering must not gather an unbounded backlog: past {@link #QUEUE} waiting lookups, new ones
 * fail at once with 0x01, which a client may retry (on another node, behind a balancer).
 */
public final class PooledResolver implements Resolver {

  /** Threads: enough for a burst of lookups in flight against a slow server, few enough to cost nothing idle. */
  public static final int THREADS = 16;
  /** Lookups waiting for a thread, past which new ones fail at once. */
  public static final int QUEUE = 1024;

  /** The blocking lookup; {@link InetAddress#getAllByName} but for tests. */
  public interface Lookup {
    InetAddress[] lookup(String name) throws UnknownHostException;
  }

  private final Vertx vertx;
  private final Lookup lookup;
  private final ThreadPoolExecutor pool;

  public PooledResolver(Vertx vertx) {
    this(vertx, InetAddress::getAllByName, THREADS, QUEUE);
  }

  public PooledResolver(Vertx vertx, Lookup lookup, int threads, int queue) {
    this.vertx = vertx;
    this.lookup = lookup;
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue), r -> {
      Thread t = new Thread(r, "vxsocks-resolver-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    pool.allowCoreThreadTimeOut(true);
  }

  @Override
  public Future<List<InetAddress>> resolve(String name) {
    Context context = vertx.getOrCreateContext();
    Promise<List<InetAddress>> result = Promise.promise();
    try {
      pool.execute(() -> {
        List<InetAddress> addresses;
        try {
          addresses = Arrays.asList(lookup.lookup(name));
        } catch (UnknownHostException | RuntimeException e) {
          context.runOnContext(v -> result.fail(new Socks5Failure(ReplyCode.HOST_UNREACHABLE,
              "cannot resolve " + LogText.safe(name) + (e instanceof UnknownHostException ? "" : ": " + e))));
          return;
        }
        context.runOnContext(v -> {
          if (addresses.isEmpty()) {
            result.fail(new Socks5Failure(ReplyCode.HOST_UNREACHABLE, "no address for " + LogText.safe(name)));
          } else {
            result.complete(addresses);
          }
        });
      });
    } catch (RejectedExecutionException e) {
      return Future.failedFuture(new Socks5Failure(ReplyCode.GENERAL_FAILURE, "resolver busy: " + QUEUE
          + " lookups already waiting (is the DNS server answering?)"));
    }
    return result.future();
  }

  @Override
  public void close() {
    pool.shutdown();
  }
}
