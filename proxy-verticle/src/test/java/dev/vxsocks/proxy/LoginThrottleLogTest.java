package dev.vxsocks.proxy;

import dev.vxsocks.testing.LogCapture;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the login throttle logs while one address hammers a name through the proxy: one line per lockout (the
 * failure that starts it), never one per refused attempt, and never a password.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LoginThrottleLogTest {

  private static final Pattern LOCKED = Pattern.compile("user \"alice\" from 127\\.0\\.0\\.5 locked out for (\\w+) "
      + "\\(lockout (\\d+)\\)");

  private static long lockoutLines(LogCapture logs) {
    return logs.lines().stream().filter(l -> l.contains("locked out for")).count();
  }

  /** RFC 1929 status for one login from 127.0.0.5, or -1 when the proxy closed without one. */
  private static int attempt(int port, String password) {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress("127.0.0.5", 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setSoTimeout(10_000);
      RawClient c = new RawClient(s);
      if (c.greet(2) != 2) {
        return -1;
      }
      return c.login(TestProxy.USER, password);
    } catch (IOException e) {
      return -1;
    }
  }

  @Test
  void aLockoutIsLoggedOnceNotOncePerAttemptAndNoPasswordIsLogged() throws Exception {
    JsonObject json = TestProxy.config("username-password");
    json.getJsonObject("auth").put("throttle", new JsonObject().put("failures-per-client-ip", 1000)
        .put("failures-per-user-and-client-ip", 3).put("backoff", "1s").put("backoff-max", "2s").put("window", "1m"));
    try (LogCapture logs = new LogCapture("", Level.ALL); TestProxy proxy = TestProxy.start(json)) {
      int attempts = 0;
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      // Until the third lockout starts (1 s, 2 s, 2 s: about 6 s of hammering); bounded by 30 s and 5000 attempts.
      while (lockoutLines(logs) < 3 && System.nanoTime() - end < 0 && attempts < 5000) {
        int status = attempt(proxy.port(), "Wr0ng-" + attempts + "-marker");
        assertThat(status).as("every attempt is answered 01 01").isEqualTo(1);
        attempts++;
        Thread.sleep(2);
      }
      logs.await("auth failed: throttled", 5000);
      List<String> lockouts = logs.lines().stream().filter(l -> l.contains("locked out for")).toList();
      assertThat(lockouts).as(logs.text()).hasSize(3);
      for (int i = 0; i < lockouts.size(); i++) {
        Matcher m = LOCKED.matcher(lockouts.get(i));
        assertThat(m.find()).as(lockouts.get(i)).isTrue();
        assertThat(Integer.parseInt(m.group(2))).isEqualTo(i + 1);
        assertThat(m.group(1)).isEqualTo(i == 0 ? "1s" : "2s");
      }
      long throttled = logs.lines().stream().filter(l -> l.contains("auth failed: throttled")).count();
      System.out.println(attempts + " attempts, " + throttled + " refused as throttled, " + lockouts.size()
          + " lockout lines");
      // Three lockout lines for the 5 s the lockouts lasted, during which attempts went on every few milliseconds.
      assertThat(throttled).as("the refused attempts were many").isGreaterThan(10L * lockouts.size());
      assertThat(logs.lines()).noneMatch(l -> l.contains("Wr0ng") || l.contains(TestProxy.PASSWORD));
    }
  }
}
