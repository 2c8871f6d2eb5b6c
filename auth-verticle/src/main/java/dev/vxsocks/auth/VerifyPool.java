package dev.vxsocks.auth;

import dev.vxsocks.config.PasswordHash;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Logger;

/**
 * The threads password hashes run on: a pool of its own ({@code auth.verify-threads}, by default half the cores),
 * apart from Vert.x's worker pool, so that a login storm can take at most those threads' share of the CPU, never the
 * event loops' nor the other blocking work's. At most {@code auth.verify-queue} verifications wait for a thread: past
 * that a login is refused at once ({@link Busy}, the client gets {@code 01 01}) instead of waiting behind a queue that
 * would take minutes to drain; a verification that waited longer than {@code timeouts.auth} (its client was already
 * answered) is dropped without its hash. Both are logged at most once per {@value #LOG_EVERY_SECONDS} s.
 *
 * <p>An unknown user name costs no hash but takes as long as one ({@link #decoy}): it waits in the same queue, then
 * holds its thread, asleep, for as long as a real verification of that cost took lately (a random one of the last
 * {@value #SAMPLES} measured, scaled to the iteration count). Alone or many at once, an unknown name is answered in
 * the time a wrong password for a known one takes, at the CPU cost of a sleep. When no hash was measured for a
 * minute, a decoy runs a real hash instead, to measure one.
 */
public final class VerifyPool implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(VerifyPool.class.getName());
  static final int SAMPLES = 8;
  static final int LOG_EVERY_SECONDS = 10;
  private static final long STALE_NANOS = TimeUnit.SECONDS.toNanos(60);

  /** The verification was not run: the queue was full, or it waited longer than its client would. */
  public static final class Busy extends RuntimeException {
    Busy(String message) {
      super(message, null, false, false);
    }
  }

  private final ThreadPoolExecutor executor;
  private final AtomicInteger waiting = new AtomicInteger();
  private volatile int queueLimit;
  private volatile long maxWaitNanos;

  // Recent real hashes, in nanoseconds per iteration; guarded by this.
  private final double[] samples = new double[SAMPLES];
  private int sampleCount;
  private int nextSample;
  private long lastSampleNanos;
  /** The decoy hash verified when a fresh measurement is needed; created (one hash) on first use. */
  private volatile PasswordHash decoy;

  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicLong lastRefusalLog = new AtomicLong(System.nanoTime() - TimeUnit.SECONDS.toNanos(LOG_EVERY_SECONDS));

  public VerifyPool(int threads, int queueLimit, Duration maxWait) {
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "vxsocks-verify-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    executor.allowCoreThreadTimeOut(true);
    this.queueLimit = queueLimit;
    this.maxWaitNanos = maxWait.toNanos();
  }

  /** Takes new sizes and the longest wait; verifications already queued stay. */
  public synchronized void resize(int threads, int queueLimit, Duration maxWait) {
    if (threads > executor.getMaximumPoolSize()) {
      executor.setMaximumPoolSize(threads);
      executor.setCorePoolSize(threads);
    } else if (threads < executor.getMaximumPoolSize()) {
      executor.setCorePoolSize(threads);
      executor.setMaximumPoolSize(threads);
    }
    this.queueLimit = queueLimit;
    this.maxWaitNanos = maxWait.toNanos();
  }

  /**
   * Runs {@code hash} (a verification of {@code iterations} iterations) on a pool thread; the result is delivered on
   * {@code context}. Fails with {@link Busy} when the queue is full or the wait was too long.
   */
  public <T> Future<T> verify(Context context, int iterations, Callable<T> hash) {
    return submit(context, () -> {
      long start = System.nanoTime();
      T result = hash.call();
      measured(iterations, System.nanoTime() - start);
      return result;
    });
  }

  /** As long as a verification of {@code iterations} iterations takes, without the hash (see the class comment). */
  public Future<Void> decoy(Context context, int iterations) {
    return submit(context, () -> {
      long sleep = sampledNanos(iterations);
      if (sleep < 0) {
        long start = System.nanoTime();
        PasswordHash d = decoy;
        if (d == null || d.iterations() != iterations) {
          decoy = PasswordHash.create("not-a-user".toCharArray(), iterations);
        } else {
          d.verify("not-the-password".toCharArray());
        }
        measured(iterations, System.nanoTime() - start);
      } else {
        long end = System.nanoTime() + sleep;
        for (long left = sleep; left > 0; left = end - System.nanoTime()) {
          LockSupport.parkNanos(left);
        }
      }
      return null;
    });
  }

  private <T> Future<T> submit(Context context, Callable<T> work) {
    Promise<T> promise = Promise.promise();
    if (waiting.incrementAndGet() > queueLimit + idleThreads()) {
      waiting.decrementAndGet();
      refuse("the queue is full");
      return Future.failedFuture(new Busy("password verifications backed up: queue full"));
    }
    long queuedAt = System.nanoTime();
    try {
      executor.execute(() -> {
        waiting.decrementAndGet();
        if (System.nanoTime() - queuedAt > maxWaitNanos) {
          refuse("a verification waited longer than timeouts.auth");
          context.runOnContext(v -> promise.fail(new Busy("password verification waited too long")));
          return;
        }
        try {
          T result = work.call();
          context.runOnContext(v -> promise.complete(result));
        } catch (Exception | Error e) {
          context.runOnContext(v -> promise.fail(e));
        }
      });
    } catch (RuntimeException rejected) {
      waiting.decrementAndGet();
      return Future.failedFuture(new Busy("password verifications stopped"));
    }
    return promise.future();
  }

  /** Threads free to start at once: a login that finds one does not count against the queue. */
  private int idleThreads() {
    return Math.max(0, executor.getMaximumPoolSize() - executor.getActiveCount());
  }

  private void refuse(String why) {
    refused.incrementAndGet();
    long last = lastRefusalLog.get();
    long now = System.nanoTime();
    if (now - last >= TimeUnit.SECONDS.toNanos(LOG_EVERY_SECONDS) && lastRefusalLog.compareAndSet(last, now)) {
      int count = refused.getAndSet(0);
      LOG.warning("auth: password verifications backed up (" + executor.getMaximumPoolSize() + " threads, "
          + waiting.get() + " waiting, auth.verify-queue " + queueLimit + "): " + count + " logins refused with 01 01"
          + " without a hash since the last such line (" + why + ")");
    }
  }

  private synchronized void measured(int iterations, long nanos) {
    samples[nextSample] = (double) nanos / iterations;
    nextSample = (nextSample + 1) % SAMPLES;
    sampleCount = Math.min(SAMPLES, sampleCount + 1);
    lastSampleNanos = System.nanoTime();
  }

  /** A recent verification's time scaled to {@code iterations}, or -1 when none was measured in the last minute. */
  private synchronized long sampledNanos(int iterations) {
    if (sampleCount == 0 || System.nanoTime() - lastSampleNanos > STALE_NANOS) {
      return -1;
    }
    return (long) (samples[ThreadLocalRandom.current().nextInt(sampleCount)] * iterations);
  }

  /** Verifications waiting for a thread (tests and diagnostics). */
  public int waiting() {
    return waiting.get();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
