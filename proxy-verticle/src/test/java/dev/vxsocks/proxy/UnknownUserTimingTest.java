package dev.vxsocks.proxy;

import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No user enumeration by timing: through the proxy, a name that does not exist is refused in the time a wrong
 * password for one that does takes (the unknown name costs no hash: it sleeps for as long as recent real checks
 * took). Throttle off. The hash costs 100 000 iterations, long enough (tens of ms) for the hash to dominate what is
 * measured; after a warm-up (the JIT makes the hash faster meanwhile), 60 of each kind, alternating so both see the
 * same load, and the medians must agree within 20 %.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class UnknownUserTimingTest {

  private static final int ITERATIONS = 100_000;
  private static final int WARMUP = 20;
  private static final int ATTEMPTS = 60;

  private static long loginMillis(int port, String user, String password) throws IOException {
    try (RawClient c = new RawClient(port)) {
      assertThat(c.greet(2)).isEqualTo(2);
      long start = System.nanoTime();
      assertThat(c.login(user, password)).isEqualTo(1);
      return System.nanoTime() - start;
    }
  }

  private static double medianMillis(List<Long> nanos) {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    int n = sorted.size();
    return (sorted.get((n - 1) / 2) + sorted.get(n / 2)) / 2e6;
  }

  @Test
  void anUnknownNameIsRefusedInTheTimeOfAWrongPassword() throws Exception {
    String hash = PasswordHash.create("the-right-one".toCharArray(), ITERATIONS).encoded();
    JsonObject json = TestProxy.config("username-password")
        .put("users", new JsonArray().add(new JsonObject().put("name", "alice").put("password", hash)));
    json.getJsonObject("auth").put("throttle", new JsonObject().put("failures-per-client-ip", 0)
        .put("failures-per-user-and-client-ip", 0));
    try (TestProxy proxy = TestProxy.start(json)) {
      List<Long> wrong = new ArrayList<>();
      List<Long> unknown = new ArrayList<>();
      for (int i = 0; i < WARMUP + ATTEMPTS; i++) {
        // Either kind first, in turn: neither always follows the other.
        long w;
        long u;
        if (i % 2 == 0) {
          w = loginMillis(proxy.port(), "alice", "wrong-" + i);
          u = loginMillis(proxy.port(), "nobody-" + i, "wrong-" + i);
        } else {
          u = loginMillis(proxy.port(), "nobody-" + i, "wrong-" + i);
          w = loginMillis(proxy.port(), "alice", "wrong-" + i);
        }
        if (i >= WARMUP) {
          wrong.add(w);
          unknown.add(u);
        }
      }
      double mw = medianMillis(wrong);
      double mu = medianMillis(unknown);
      System.out.printf("wrong password: median %.1f ms; unknown user: median %.1f ms (%d attempts each)%n", mw, mu,
          ATTEMPTS);
      assertThat(Math.abs(mu - mw) / mw).as("wrong %.1f ms, unknown %.1f ms", mw, mu).isLessThanOrEqualTo(0.2);
    }
  }
}
