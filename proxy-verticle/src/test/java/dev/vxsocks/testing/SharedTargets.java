package dev.vxsocks.testing;

import dev.vxsocks.testing.LoopbackTargets.HttpTarget;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The loopback targets the client tests talk to, started once for the whole test run: the first test class
 * registered with {@code @ExtendWith(SharedTargets.class)} starts them, and JUnit closes them when the run ends. They
 * are stateless servers (see {@link LoopbackTargets}), so test classes can share them; a test that needs a target of
 * its own (one it stops, or one whose traffic it inspects) still starts it itself.
 */
public final class SharedTargets implements BeforeAllCallback {

  private static volatile Targets started;

  @Override
  public void beforeAll(ExtensionContext context) {
    started = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(Targets.class, key -> Targets.start(), Targets.class);
  }

  /** {@link HttpTarget}: {@code GET /}, {@code GET /big}, {@code POST /upload}, on 127.0.0.1 and [::1]. */
  public static HttpTarget http() {
    return targets().http();
  }

  /** {@link TcpTarget.Mode#ECHO}. */
  public static TcpTarget echo() {
    return targets().echo();
  }

  /** {@link TcpTarget.Mode#ANSWER_AFTER_EOF}: answers only after the client's FIN (half-close is relayed). */
  public static TcpTarget answerAfterEof() {
    return targets().answerAfterEof();
  }

  /** {@link TcpTarget.Mode#HOLD_AFTER_EOF}: after the client's FIN, neither answers nor closes (for 30 s at most). */
  public static TcpTarget holdAfterEof() {
    return targets().holdAfterEof();
  }

  private static Targets targets() {
    Targets t = started;
    if (t == null) {
      throw new IllegalStateException("the test class needs @ExtendWith(SharedTargets.class)");
    }
    return t;
  }

  private record Targets(HttpTarget http, TcpTarget echo, TcpTarget answerAfterEof, TcpTarget holdAfterEof)
      implements ExtensionContext.Store.CloseableResource {

    static Targets start() {
      try {
        return new Targets(HttpTarget.start(), TcpTarget.start(TcpTarget.Mode.ECHO),
            TcpTarget.start(TcpTarget.Mode.ANSWER_AFTER_EOF), TcpTarget.start(TcpTarget.Mode.HOLD_AFTER_EOF));
      } catch (IOException e) {
        throw new UncheckedIOException("could not start the loopback targets", e);
      }
    }

    @Override
    public void close() throws Exception {
      try (http; echo; answerAfterEof; holdAfterEof) {
        // try-with-resources closes all four, each even if another fails
      }
    }
  }
}
