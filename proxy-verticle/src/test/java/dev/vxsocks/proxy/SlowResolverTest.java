package dev.vxsocks.proxy;

import dev.vxsocks.proxy.codec.ReplyCode;
import dev.vxsocks.proxy.codec.Socks5Failure;
import dev.vxsocks.proxy.command.PooledResolver;
import dev.vxsocks.proxy.command.Resolver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static dev.vxsocks.testing.Bytes.bytes;
import static dev.vxsocks.testing.RawClient.connectDomain;
import static dev.vxsocks.testing.RawClient.passwordRequest;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A DNS server that stops answering must not hold up logins: name lookups run on the resolver's own pool, password
 * verification on a pool of its own too ({@code VerifyPool}). Forty CONNECTs to a name whose lookup hangs, then one
 * login whose password has never been verified (so it needs the hash): it must be answered at once. The second test
 * runs the same attack against lookups on Vert.x's worker pool (how the proxy resolved before): that pool is then
 * all taken, and the login is still answered, since verification no longer runs there. (Before the verification
 * pool, that login waited: this test was the control showing the first one sees the difference.)
 */
class SlowResolverTest {

  private static final int STUCK_LOOKUPS = 40;

  /** Lookups of every name hang until {@link #release}, then fail. */
  private static final class HangingLookup implements PooledResolver.Lookup {
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger entered = new AtomicInteger();

    @Override
    public InetAddress[] lookup(String name) throws UnknownHostException {
      entered.incrementAndGet();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new UnknownHostException(name);
    }
  }

  private static JsonObject config() {
    return TestProxy.baseConfig()
        .put("auth", new JsonObject().put("methods", new JsonArray().add("username-password").add("none")))
        // Longer than the login client waits: a login held up must show as a read timeout, not a closed handshake.
        .put("timeouts", new JsonObject().put("handshake", "10s"));
  }

  @Test
  void aHangingResolverDoesNotDelayALogin() throws Exception {
    HangingLookup lookup = new HangingLookup();
    long loginMs = loginWhileLookupsHang(lookup, vertx -> new PooledResolver(vertx, lookup, 16, 1024), 16);
    assertThat(loginMs).as("login answered while %d lookups hang", STUCK_LOOKUPS).isLessThan(2000);
  }

  @Test
  void evenWithVertxWorkerPoolTakenByLookupsTheLoginIsAnswered() throws Exception {
    HangingLookup lookup = new HangingLookup();
    Function<Vertx, Resolver> sharedPool = vertx -> new Resolver() {
      @Override
      public Future<List<InetAddress>> resolve(String name) {
        return vertx.<List<InetAddress>>executeBlocking(() -> Arrays.asList(lookup.lookup(name)), false)
            .recover(e -> Future.failedFuture(new Socks5Failure(ReplyCode.HOST_UNREACHABLE, e.getMessage())));
      }

      @Override
      public void close() {
      }
    };
    // Vert.x's worker pool has 20 threads by default: all of them hang.
    long loginMs = loginWhileLookupsHang(lookup, sharedPool, 20);
    assertThat(loginMs).as("login answered while Vert.x's %d worker threads hang", 20).isLessThan(2000);
  }

  /** The time the login's status took, while {@link #STUCK_LOOKUPS} lookups hang. */
  private static long loginWhileLookupsHang(HangingLookup lookup, Function<Vertx, Resolver> resolver, int busyThreads)
      throws Exception {
    List<RawClient> stuck = new ArrayList<>();
    try (TestProxy proxy = TestProxy.start(config(), resolver)) {
      for (int i = 0; i < STUCK_LOOKUPS; i++) {
        RawClient c = new RawClient(proxy.port());
        stuck.add(c);
        c.send(bytes(5, 1, 0)).expect(bytes(5, 0));
        c.send(connectDomain("hangs.test", 80));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (lookup.entered.get() < busyThreads && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(lookup.entered.get()).as("lookups in progress").isGreaterThanOrEqualTo(busyThreads);
      try (RawClient login = new RawClient(proxy.port())) {
        login.socket.setSoTimeout(3000);
        login.send(bytes(5, 1, 2)).expect(bytes(5, 2));
        long start = System.nanoTime();
        login.send(passwordRequest(TestProxy.USER, TestProxy.PASSWORD)).expect(bytes(1, 0));
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      } finally {
        lookup.release.countDown();
        // Every stuck CONNECT gets its answer once the lookups fail: 0x04, the name did not resolve.
        for (RawClient c : stuck) {
          assertThat(c.readReply()[1]).as("reply to a CONNECT whose name did not resolve").isEqualTo((byte) 4);
        }
      }
    } finally {
      for (RawClient c : stuck) {
        c.close();
      }
    }
  }
}
