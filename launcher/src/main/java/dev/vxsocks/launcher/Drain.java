package dev.vxsocks.launcher;

import dev.vxsocks.config.Durations;
import dev.vxsocks.config.ProxyConfig;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * A graceful stop, so that a rolling restart behind a load balancer cuts nobody off:
 * <ol>
 *   <li>readiness fails at once ({@code /health/ready} answers 503), and the node keeps accepting for
 *   {@code drain.grace}, the time the balancer's health check needs to stop sending new sessions here;</li>
 *   <li>the node stops accepting; open sessions run on until they end, for at most {@code drain.timeout};</li>
 *   <li>sessions still open then are closed, each with its summary line ({@code close="drain timeout"});</li>
 *   <li>the node stops (a cluster member leaves the cluster gracefully) and the process exits 0.</li>
 * </ol>
 * The first stop request (SIGTERM, SIGINT) starts it; a second one skips whatever waiting is left. Each step logs a
 * line with the number of sessions still open.
 */
final class Drain {

  private static final Logger LOG = Logger.getLogger("dev.vxsocks.node");
  /** How often the wait for open sessions looks at their count, and how often it reports it. */
  private static final long POLL_MS = 100;
  private static final long REPORT_MS = 5_000;
  /** How long Vert.x may take to stop the node (leave the cluster) once sessions are closed. */
  private static final long STOP_SECONDS = 30;

  private final Node node;
  private final Readiness readiness;
  private final StatusReport status;
  private final ProxyConfig.Drain settings;
  private final AtomicInteger requests = new AtomicInteger();
  private final CountDownLatch skip = new CountDownLatch(1);
  /** Why the wait was skipped: the close reason of the sessions it cuts short. */
  private volatile String skipReason = "stopped before its end (second stop request)";
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  Drain(Node node, Readiness readiness, StatusReport status, ProxyConfig.Drain settings) {
    this.node = node;
    this.readiness = readiness;
    this.status = status;
    this.settings = settings;
  }

  /** A stop request ({@code why}: the signal's name): the first starts the drain, the next skips its waiting. */
  void request(String why) {
    int n = requests.incrementAndGet();
    if (n == 1) {
      Thread t = new Thread(() -> run(why), "vxsocks-drain");
      t.setDaemon(false);
      t.start();
    } else if (n == 2) {
      LOG.info("drain: " + why + " again: skipping the wait, closing " + open() + " open sessions now");
      skip.countDown();
    }
  }

  /**
   * A stop that cannot wait (the JVM is already exiting some other way): no grace and no wait for sessions, which
   * are closed at once with {@code why} in their reason.
   */
  void requestNow(String why) {
    skipReason = "stopped before its end (" + why + ")";
    skip.countDown();
    request(why);
  }

  /** Completes when the node has stopped. */
  CompletableFuture<Void> done() {
    return done;
  }

  private void run(String why) {
    try {
      readiness.draining();
      LOG.info("drain: " + why + ": readiness is 503 from now on; still accepting for " + Durations.format(settings.grace())
          + " so the load balancer can notice (" + open() + " sessions open)");
      boolean skipped = skip.await(settings.grace().toMillis(), TimeUnit.MILLISECONDS);
      // Vert.x would close what is still open after this; closeSessions does it first, with a reason in the log.
      node.server().stopAccepting(settings.timeout().plusSeconds(STOP_SECONDS)).toCompletionStage()
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      if (!skipped) {
        LOG.info("drain: stopped accepting; waiting up to " + Durations.format(settings.timeout()) + " for "
            + open() + " open sessions to end");
        skipped = awaitSessions(settings.timeout());
      }
      int left = open();
      if (left > 0) {
        String reason = skipped ? skipReason : "drain timeout";
        LOG.info("drain: closing " + left + " sessions still open (" + reason + ")");
        node.server().closeSessions(reason).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } else {
        LOG.info("drain: no session open");
      }
      LOG.info("drain: stopping the node" + (node.clustered() ? " and leaving the cluster" : ""));
      status.withdraw(node.vertx()); // while still a member: the map is reached through the membership
      node.stop().toCompletionStage().toCompletableFuture().get(STOP_SECONDS, TimeUnit.SECONDS);
      LOG.info("drain: done");
      done.complete(null);
    } catch (Exception e) {
      LOG.warning("drain: did not finish cleanly: " + Main.rootCause(e));
      done.completeExceptionally(e);
    }
  }

  /** Waits until no session is open or {@code max} has passed; true if a second request cut it short. */
  private boolean awaitSessions(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    long nextReport = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(REPORT_MS);
    while (open() > 0 && deadline - System.nanoTime() > 0) {
      if (skip.await(POLL_MS, TimeUnit.MILLISECONDS)) {
        return true;
      }
      if (System.nanoTime() - nextReport >= 0 && open() > 0) {
        LOG.info("drain: " + open() + " sessions still open");
        nextReport += TimeUnit.MILLISECONDS.toNanos(REPORT_MS);
      }
    }
    return false;
  }

  private int open() {
    return node.server().stats().openSessions();
  }
}
