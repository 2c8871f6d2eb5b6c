package dev.vxsocks.proxy.gssapi;

import dev.vxsocks.testing.GssSocksClient;
import dev.vxsocks.testing.LoopbackTargets.TcpTarget;
import dev.vxsocks.testing.RawClient;
import dev.vxsocks.testing.TestKdc;
import dev.vxsocks.testing.TestProxy;
import org.junit.jupiter.api.Test;

import javax.security.auth.Subject;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Throughput of one relayed session at each protection level (docs/BENCHMARKS.md, "GSS-API"): our JDK client sends
 * {@link #MIB} MiB through the proxy to an echo target and reads them back, both directions at once; the figure is
 * MB/s each way. Not a test (the name keeps it out of {@code mvn verify}); run it with
 * {@code mvn -B -o verify -pl proxy-verticle -am -Dtest=GssapiThroughputBench -Dsurefire.failIfNoSpecifiedTests=false}
 * and read the {@code GSSAPI-BENCH} lines in proxy-verticle/target/surefire-reports/*GssapiThroughputBench-output.txt.
 * The client runs in the same JVM and does the same cryptography as the proxy, on the same cores.
 */
class GssapiThroughputBench {

  private static final int MIB = Integer.getInteger("vxsocks.bench.mib", 64);
  private static final int ROUNDS = Integer.getInteger("vxsocks.bench.rounds", 3);

  @Test
  void throughputPerLevel() throws Exception {
    TestKdc kdc = TestKdc.get();
    Subject alice = kdc.login("alice");
    try (TcpTarget echo = TcpTarget.echo("127.0.0.1");
         TestProxy proxy = TestProxy.start(GssapiSessionTest.config(kdc.serviceKeytab())
             .put("timeouts", new io.vertx.core.json.JsonObject().put("handshake", "60s")))) {
      byte[] payload = new byte[MIB * 1024 * 1024];
      new Random(42).nextBytes(payload);
      for (int round = 0; round < ROUNDS; round++) {
        for (int level : new int[] {0, 1, 2}) {
          double seconds = oneSession(proxy.port(), alice, echo.port(), level, payload);
          // One println of a whole line: the proxy's log lines go to the same file and must not cut it.
          System.out.println(String.format("GSSAPI-BENCH round=%d level=%s MiB=%d seconds=%.2f MBps_each_way=%.1f "
              + "Gbps_each_way=%.3f", round, ProtectionLevels.word(level), MIB, seconds, payload.length / seconds / 1e6,
              payload.length * 8 / seconds / 1e9));
        }
      }
    }
  }

  private static double oneSession(int port, Subject who, int echoPort, int level, byte[] payload) throws Exception {
    try (GssSocksClient c = new GssSocksClient(port, who)) {
      c.socket.setSoTimeout(120_000);
      c.greet();
      c.establish(TestKdc.SERVICE);
      assertThat(c.negotiate(level, false)).isEqualTo(level);
      c.write(RawClient.connectIpv4(127, 0, 0, 1, echoPort));
      assertThat(c.readReply()[1]).isZero();
      long t0 = System.nanoTime();
      CompletableFuture<Long> down = CompletableFuture.supplyAsync(() -> {
        try {
          byte[] b = new byte[256 * 1024];
          long n = 0;
          for (int r; (r = c.read(b, 0, b.length)) >= 0; ) {
            n += r;
          }
          return n;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      for (int o = 0; o < payload.length; o += 1024 * 1024) {
        c.write(payload, o, Math.min(1024 * 1024, payload.length - o));
      }
      c.socket.shutdownOutput();
      long received = down.get(300, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertThat(received).isEqualTo(payload.length);
      return seconds;
    }
  }
}
