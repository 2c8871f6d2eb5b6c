package dev.vxsocks.auth;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The verification pool: bounded, refusing at once when full, dropping what waited past its client's patience, and
 * answering unknown names (decoys) in the time of a real verification without its hash. "Hashes" here are tasks
 * that block on a latch or sleep, so the timings do not depend on the machine's speed; bounds are generous.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VerifyPoolTest {

  private Vertx vertx;
  private Context context;
  private VerifyPool pool;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void stop() throws Exception {
    if (pool != null) {
      pool.close();
    }
    vertx.close().await(20, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.await(20, TimeUnit.SECONDS);
  }

  @Test
  void aFullQueueRefusesTheNextLoginAtOnce() throws Exception {
    pool = new VerifyPool(1, 2, Duration.ofMinutes(1));
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger ran = new AtomicInteger();
    List<Future<Boolean>> accepted = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      // One runs (and blocks), two wait.
      accepted.add(pool.verify(context, 1000, () -> {
        release.await(20, TimeUnit.SECONDS);
        ran.incrementAndGet();
        return true;
      }));
      if (i == 0) {
        while (pool.waiting() > 0) {
          Thread.sleep(5);
        }
      }
    }
    assertThat(pool.waiting()).isEqualTo(2);
    long start = System.nanoTime();
    Future<Boolean> refused = pool.verify(context, 1000, () -> {
      ran.incrementAndGet();
      return true;
    });
    assertThatThrownBy(() -> await(refused)).isInstanceOf(VerifyPool.Busy.class);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("refused at once").isLessThan(1000);
    release.countDown();
    for (Future<Boolean> f : accepted) {
      assertThat(await(f)).isTrue();
    }
    assertThat(ran).hasValue(3);
  }

  @Test
  void aVerificationThatWaitedLongerThanItsClientIsDroppedWithoutItsHash() throws Exception {
    pool = new VerifyPool(1, 10, Duration.ofMillis(200));
    CountDownLatch release = new CountDownLatch(1);
    Future<Boolean> first = pool.verify(context, 1000, () -> release.await(20, TimeUnit.SECONDS));
    AtomicInteger hashed = new AtomicInteger();
    Future<Boolean> late = pool.verify(context, 1000, () -> hashed.incrementAndGet() > 0);
    Thread.sleep(500);
    release.countDown();
    assertThat(await(first)).isTrue();
    assertThatThrownBy(() -> await(late)).isInstanceOf(VerifyPool.Busy.class);
    assertThat(hashed).hasValue(0);
  }

  @Test
  void aDecoyTakesAsLongAsRecentVerificationsScaledToItsIterationsButHashesNothing() throws Exception {
    pool = new VerifyPool(2, 10, Duration.ofMinutes(1));
    for (int i = 0; i < VerifyPool.SAMPLES; i++) {
      // 100 ms for 1000 iterations.
      await(pool.verify(context, 1000, () -> {
        Thread.sleep(100);
        return false;
      }));
    }
    long start = System.nanoTime();
    await(pool.decoy(context, 1000));
    long oneThousand = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    start = System.nanoTime();
    await(pool.decoy(context, 3000));
    long threeThousand = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(oneThousand).isBetween(95L, 1000L);
    assertThat(threeThousand).isBetween(295L, 2000L);
  }

  @Test
  void decoysWaitInTheSameQueueAndHoldAThreadAsVerificationsDo() throws Exception {
    pool = new VerifyPool(1, 10, Duration.ofMinutes(1));
    await(pool.verify(context, 1000, () -> {
      Thread.sleep(200);
      return false;
    }));
    // Three at once on one thread: the last is answered after about three verifications' time, like wrong passwords.
    long start = System.nanoTime();
    List<Future<Void>> three = List.of(pool.decoy(context, 1000), pool.decoy(context, 1000), pool.decoy(context, 1000));
    for (Future<Void> f : three) {
      await(f);
    }
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(590L);
  }

  @Test
  void withoutARecentMeasurementADecoyRunsARealHash() throws Exception {
    pool = new VerifyPool(1, 10, Duration.ofMinutes(1));
    long start = System.nanoTime();
    await(pool.decoy(context, 1000));
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000);
    // The hash it ran was measured: the next decoy sleeps for about as long instead of hashing again.
    await(pool.decoy(context, 1000));
  }

  @Test
  void moreThreadsTakeEffectAtOnce() throws Exception {
    pool = new VerifyPool(1, 10, Duration.ofMinutes(1));
    pool.resize(2, 10, Duration.ofMinutes(1));
    CountDownLatch both = new CountDownLatch(2);
    Future<Boolean> a = pool.verify(context, 1000, () -> {
      both.countDown();
      return both.await(10, TimeUnit.SECONDS);
    });
    Future<Boolean> b = pool.verify(context, 1000, () -> {
      both.countDown();
      return both.await(10, TimeUnit.SECONDS);
    });
    assertThat(await(a)).as("both ran at the same time").isTrue();
    assertThat(await(b)).isTrue();
  }
}
