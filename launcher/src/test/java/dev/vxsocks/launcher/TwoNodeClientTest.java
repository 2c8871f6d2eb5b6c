package dev.vxsocks.launcher;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.SharedTargets;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What every real-client test starts from: a node offering no auth ({@link #open}) and one requiring
 * username/password ({@link #withPassword}), each on its own Vert.x, the proxy's log captured for assertion
 * messages, and the run's loopback targets ({@link SharedTargets}). Vert.x instances made with {@link #own} are
 * closed after each test.
 */
@ExtendWith({VertxExtension.class, SharedTargets.class})
abstract class TwoNodeClientTest {

  protected Node open;
  protected Node withPassword;
  protected LogCapture log;
  private final List<Vertx> ownVertx = new ArrayList<>();

  @BeforeEach
  void startProxies(Vertx vertx, VertxTestContext ctx) {
    log = new LogCapture();
    // A second node needs a Vert.x of its own (see ProxyFixture.start); made here, not on a Vert.x thread.
    Vertx second = own(Vertx.vertx());
    ProxyFixture.start(vertx, TestProxy.config("none"))
        .compose(node -> {
          open = node;
          return ProxyFixture.start(second, TestProxy.config("username-password"));
        })
        .onComplete(ctx.succeeding(node -> {
          withPassword = node;
          ctx.completeNow();
        }));
  }

  @AfterEach
  void stopProxies() throws Exception {
    log.close();
    for (Vertx v : ownVertx) {
      v.close().await(20, TimeUnit.SECONDS);
    }
  }

  /** Closes {@code v} after the test. */
  protected Vertx own(Vertx v) {
    ownVertx.add(v);
    return v;
  }
}
