package dev.vxsocks.auth.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * How an answer of Hazelcast reaches our code without a thread of its own.
 *
 * <p>Hazelcast 5.3 runs the callbacks of its futures ({@code whenComplete}, {@code thenApply}, and so the
 * {@code whenComplete} inside Vert.x's {@code Future.fromCompletionStage}) on its default async executor, which is
 * the JDK's common pool only when that pool has more than one thread; on a machine with 2 cores it has one, and
 * Hazelcast then starts a <b>new thread for every callback</b>. Measured (docs/BENCHMARKS.md, "Cluster limits"):
 * three thread starts per session and about 5 ms of CPU per session with the session limits on. Every callback on a
 * Hazelcast future in this package therefore names its executor: {@link #IN_PLACE} for the few lines that only
 * record the answer, or the Vert.x context through {@link #onContext}.
 */
public final class HazelcastCalls {

  /**
   * Runs the callback on the thread that completed the future (Hazelcast's response or partition thread): only for
   * callbacks that neither block nor take long (update a record, complete a plain future).
   */
  public static final Executor IN_PLACE = Runnable::run;

  private HazelcastCalls() {
  }

  /** {@code stage}'s outcome as a Vert.x future whose callbacks run on {@code context}. */
  public static <T> Future<T> onContext(CompletionStage<T> stage, Context context) {
    Promise<T> promise = Promise.promise();
    stage.whenCompleteAsync((value, err) -> {
      if (err != null) {
        promise.fail(err);
      } else {
        promise.complete(value);
      }
    }, task -> context.runOnContext(v -> task.run()));
    return promise.future();
  }
}
