package dev.vxsocks.proxy;

import io.vertx.core.json.JsonObject;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestProxy;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.vxsocks.testing.Bytes.bytes;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that resets its connection while its UDP association is being set up (after the request, before the
 * reply) must leave nothing behind: no bound UDP socket, no port of {@code udp.ports} held, no descriptor.
 */
class UdpSetupRaceTest {

  private static final int PORTS = 8;
  private static final int RACES = 300;

  @Test
  void associationsAbandonedDuringSetupLeaveNoSocketAndNoPortBehind() throws Exception {
    JsonObject config = TestProxy.baseConfig()
        .put("udp", new JsonObject().put("ports", "41300-" + (41300 + PORTS - 1)).put("idle-timeout", "30s"))
        // Room for a loaded machine: the first session loads classes, and must not meet the handshake deadline.
        .put("timeouts", new JsonObject().put("handshake", "10s"));
    try (TestProxy proxy = TestProxy.start(config)) {
      // One association first, so that everything a session loads lazily is loaded before counting.
      try (RawClient warm = associate(proxy)) {
        assertThat(warm.readReply()[1]).isZero();
      }
      Thread.sleep(200);
      int before = openDescriptors();
      for (int i = 0; i < RACES; i++) {
        RawClient c = associate(proxy);
        // Reset, not FIN: the session is paused while it sets up, so only a reset ends it before the reply. The
        // delay varies, so that the end falls into each step (authorize, slot, association slot, bind).
        if (i % 3 != 0) {
          Thread.sleep(0, (i % 7) * 100_000);
        }
        c.socket.setSoLinger(true, 0);
        c.close();
      }
      // Every port of the range must be free again: PORTS associations at once all get one.
      long deadline = System.currentTimeMillis() + 10_000;
      List<RawClient> held = new ArrayList<>();
      try {
        while (held.size() < PORTS) {
          RawClient c = associate(proxy);
          byte reply = c.readReply()[1];
          if (reply == 0) {
            held.add(c);
          } else {
            c.close();
            assertThat(System.currentTimeMillis()).as("udp.ports still held 10 s after the races: reply %d with %d "
                + "associations open", reply, held.size()).isLessThan(deadline);
            Thread.sleep(100);
          }
        }
      } finally {
        for (RawClient c : held) {
          c.close();
        }
      }
      // And the descriptors come back to where they were.
      int after = openDescriptors();
      while (after > before + 2 && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
        after = openDescriptors();
      }
      assertThat(after).as("descriptors open after %d abandoned associations (before: %d)", RACES, before)
          .isLessThanOrEqualTo(before + 2);
    }
  }

  private static RawClient associate(TestProxy proxy) throws Exception {
    RawClient c = new RawClient(proxy.port());
    c.send(bytes(5, 1, 0)).expect(bytes(5, 0));
    c.send(bytes(5, 3, 0, 1, 0, 0, 0, 0, 0, 0));
    return c;
  }

  private static int openDescriptors() {
    String[] fds = new File("/proc/self/fd").list();
    return fds == null ? 0 : (int) Arrays.stream(fds).count();
  }
}
