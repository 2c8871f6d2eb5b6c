package dev.vxsocks.proxy;

import dev.vxsocks.auth.api.AuthAddresses;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.EOFException;
import java.net.SocketException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A credential check waits for the rest of the handshake deadline, not just {@code timeouts.auth}: behind a storm of
 * logins, a password waits its turn for the slow hash. Here the auth verticle is a stand-in on the event bus that
 * answers credentials late or never; {@code timeouts.auth} is 300 ms, {@code timeouts.handshake} 4 s.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SlowCredentialCheckTest {

  private static final long LATE_MS = 1500;

  private Vertx vertx;
  private int port;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    var bus = vertx.eventBus();
    bus.<JsonObject>localConsumer(AuthAddresses.CLIENT, m -> m.reply(Verdict.allow("test").toJson()));
    bus.<JsonObject>localConsumer(AuthAddresses.AUTHENTICATE, m -> {
      if (m.body().getString("user").equals("late")) {
        vertx.setTimer(LATE_MS, t -> m.reply(Verdict.allow("verified").toJson()));
      }
      // "never": no answer at all
    });
    JsonObject json = TestProxy.config("username-password")
        .put("timeouts", new JsonObject().put("auth", "300ms").put("handshake", "4s"));
    port = ProxyServer.deploy(vertx, ProxyConfig.fromJson(json), 1).await(20, TimeUnit.SECONDS).port();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(20, TimeUnit.SECONDS);
  }

  @Test
  void aLoginAnsweredAfterTheAuthTimeoutButWithinTheHandshakeIsAccepted() throws Exception {
    try (RawClient c = new RawClient(port)) {
      assertThat(c.greet(2)).isEqualTo(2);
      long t0 = System.nanoTime();
      assertThat(c.login("late", "pw")).isZero();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isGreaterThanOrEqualTo(LATE_MS - 100);
    }
  }

  @Test
  void aLoginNeverAnsweredEndsAtTheHandshakeDeadlineWithoutABadCredentialsStatus() throws Exception {
    try (RawClient c = new RawClient(port)) {
      assertThat(c.greet(2)).isEqualTo(2);
      long t0 = System.nanoTime();
      // Closed without a status byte (a handshake timeout, which clients retry), not "01 01" after 300 ms.
      assertThatThrownBy(() -> c.login("never", "pw")).isInstanceOfAny(EOFException.class, SocketException.class);
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(waited).isGreaterThanOrEqualTo(3000);
    }
  }
}
