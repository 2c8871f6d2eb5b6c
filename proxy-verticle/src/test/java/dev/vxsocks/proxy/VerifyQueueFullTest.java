package dev.vxsocks.proxy;

import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One verification thread, no queue: while a hash runs, the next login that needs one is answered {@code 01 01} at
 * once instead of waiting, and a login whose password is remembered still gets in. The hash costs 2 000 000
 * iterations (seconds), so that it surely outlasts the test's next two logins.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VerifyQueueFullTest {

  private static int login(int port, String password) throws Exception {
    try (RawClient c = new RawClient(port)) {
      assertThat(c.greet(2)).isEqualTo(2);
      return c.login("alice", password);
    }
  }

  @Test
  void aLoginThatFindsThePoolFullIsRefusedAtOnceAndARememberedOneStillGetsIn() throws Exception {
    String hash = PasswordHash.create("right".toCharArray(), 2_000_000).encoded();
    JsonObject json = TestProxy.config("username-password")
        .put("users", new JsonArray().add(new JsonObject().put("name", "alice").put("password", hash)));
    json.getJsonObject("auth").put("verify-threads", 1).put("verify-queue", 0)
        .put("throttle", new JsonObject().put("failures-per-client-ip", 0).put("failures-per-user-and-client-ip", 0));
    try (LogCapture logs = new LogCapture("dev.vxsocks", Level.INFO); TestProxy proxy = TestProxy.start(json)) {
      assertThat(login(proxy.port(), "right")).as("remembered from now on").isZero();
      CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> {
        try {
          return login(proxy.port(), "wrong-1");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      // Wait for the first hash to hold the thread: its session is in the auth phase once its login was sent.
      Thread.sleep(300);
      long start = System.nanoTime();
      int second = login(proxy.port(), "wrong-2");
      long secondMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(second).isEqualTo(1);
      assertThat(first).as("the first hash still runs when the second is refused").isNotDone();
      start = System.nanoTime();
      assertThat(login(proxy.port(), "right")).as("a remembered password needs no thread").isZero();
      long rememberedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(first.get(60, TimeUnit.SECONDS)).isEqualTo(1);
      System.out.println("refused in " + secondMs + " ms, remembered login in " + rememberedMs + " ms");
      logs.await("auth failed: busy", 5000);
      logs.await("password verifications backed up", 5000);
    }
  }
}
