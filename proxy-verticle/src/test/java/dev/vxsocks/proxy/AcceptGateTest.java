package dev.vxsocks.proxy;

import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.ProxyConfig.Limits;
import dev.vxsocks.testing.LogCapture;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.logging.Level;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The node's guard at accept without sockets: what a source is, what {@code auto} comes to, how the node's totals and
 * each source's share are taken and given back, and that refusals make one log line per interval.
 */
class AcceptGateTest {

  private static final long SECOND = 1_000_000_000L;

  private static InetAddress ip(String text) {
    return IpLiterals.parse(text);
  }

  private static Limits limits(int total, int pending, int sessionsPerSource, int pendingPerSource, int v4, int v6) {
    return new Limits(0, 0, pending, 0, 0, 0, 0, total, pendingPerSource, sessionsPerSource, v4, v6);
  }

  @Test
  void aSourceIsTheAddressCutToItsPrefix() {
    assertThat(Source.of(ip("192.0.2.7"), 32, 64)).hasToString("192.0.2.7");
    assertThat(Source.of(ip("192.0.2.7"), 24, 64)).isEqualTo(Source.of(ip("192.0.2.200"), 24, 64))
        .hasToString("192.0.2.0/24");
    assertThat(Source.of(ip("192.0.2.7"), 24, 64)).isNotEqualTo(Source.of(ip("192.0.3.7"), 24, 64));
    assertThat(Source.of(ip("2001:db8:1:2:aaaa::1"), 32, 64)).isEqualTo(Source.of(ip("2001:db8:1:2::9"), 32, 64))
        .hasToString("2001:db8:1:2:0:0:0:0/64");
    assertThat(Source.of(ip("2001:db8:1:2::1"), 32, 64)).isNotEqualTo(Source.of(ip("2001:db8:1:3::1"), 32, 64));
    assertThat(Source.of(ip("2001:db8:1:2::1"), 32, 48)).isEqualTo(Source.of(ip("2001:db8:1:ffff::1"), 32, 48));
    assertThat(Source.of(ip("2001:db8::1"), 32, 128)).hasToString("2001:db8:0:0:0:0:0:1");
    assertThat(Source.of(ip("2001:db8::1"), 32, 100)).isEqualTo(Source.of(ip("2001:db8::fff"), 32, 100));
    // An IPv4 client on a dual-stack listener is its IPv4 address.
    assertThat(Source.of(ip("::ffff:192.0.2.7"), 32, 64)).isEqualTo(Source.of(ip("192.0.2.7"), 32, 64));
    assertThat(Source.of(ip("192.0.2.7"), 32, 64)).isNotEqualTo(Source.of(ip("::c000:207"), 32, 64));
  }

  @Test
  void autoComesFromTheDescriptorLimit() {
    assertThat(AcceptGate.autoSessionsTotal(20_000)).isEqualTo(9872);
    assertThat(AcceptGate.autoSessionsTotal(1024)).isEqualTo(384);
    assertThat(AcceptGate.autoSessionsTotal(256)).isEqualTo(96);
    assertThat(AcceptGate.autoSessionsTotal(0)).as("unknown: off").isZero();
    AcceptGate gate = new AcceptGate(new ProxyStats(), 20_000, 10 * SECOND);
    AcceptGate.Caps d = gate.caps(ProxyConfig.defaults().limits());
    assertThat(d).isEqualTo(new AcceptGate.Caps(9872, 4096, 2468, 256, 32, 64));
    assertThat(gate.describe(ProxyConfig.defaults().limits())).isEqualTo("accept: limits.sessions-total 9872 (auto,"
        + " descriptor limit 20000), pending-handshakes 4096; each source (/32, /64): sessions 2468, pending handshakes 256");
    Limits off = limits(0, 100, Limits.AUTO, Limits.AUTO, 32, 64);
    assertThat(gate.caps(off)).isEqualTo(new AcceptGate.Caps(0, 100, 0, 6, 32, 64));
    assertThat(new AcceptGate(new ProxyStats(), 0, SECOND).caps(ProxyConfig.defaults().limits()).sessionsTotal())
        .isZero();
  }

  @Test
  void totalsAndSharesAreTakenAndGivenBack() {
    ProxyStats stats = new ProxyStats();
    AcceptGate gate = new AcceptGate(stats, 0, 10 * SECOND);
    Limits l = limits(4, 100, 2, 1, 24, 64);
    InetAddress a1 = ip("10.0.0.1");
    InetAddress a2 = ip("10.0.0.2");
    AcceptGate.Ticket first = gate.admit(a1, false, l);
    assertThat(first).isNotNull();
    assertThat(gate.admit(a2, false, l)).as("same /24, one pending handshake each").isNull();
    first.handshakeDone();
    AcceptGate.Ticket second = gate.admit(a2, false, l);
    assertThat(second).isNotNull();
    second.handshakeDone();
    assertThat(gate.held(a1, l)).containsExactly(2, 0);
    assertThat(gate.admit(a1, false, l)).as("two sessions per source").isNull();
    AcceptGate.Ticket other = gate.admit(ip("10.0.1.1"), false, l);
    AcceptGate.Ticket balancer = gate.admit(ip("10.0.2.1"), true, l);
    assertThat(balancer).isNotNull();
    assertThat(gate.admit(ip("10.0.3.1"), false, l)).as("four sessions on the node").isNull();
    assertThat(stats.openSessions()).isEqualTo(4);
    assertThat(stats.refusedOverShare()).isEqualTo(2);
    assertThat(stats.refusedOverTotal()).isEqualTo(1);

    // Behind the balancer, the client's source is past its share once the header names it.
    assertThat(balancer.reassign(ip("10.0.0.77"), l))
        .isEqualTo("limits.sessions-per-source (2) reached for 10.0.0.0/24");
    balancer.release();
    first.release();
    first.release();
    AcceptGate.Ticket behind = gate.admit(ip("10.0.2.1"), true, l);
    assertThat(behind.reassign(ip("10.0.0.77"), l)).isNull();
    assertThat(gate.held(a1, l)).containsExactly(2, 1);
    behind.release();
    second.release();
    other.release();
    assertThat(gate.held(a1, l)).containsExactly(0, 0);
    assertThat(stats.openSessions()).isZero();
    assertThat(stats.pendingHandshakes()).isZero();
  }

  @Test
  void refusalsMakeOneLinePerInterval() {
    try (LogCapture log = new LogCapture(AcceptGate.class.getName(), Level.INFO)) {
      AcceptRefusals refusals = new AcceptRefusals(10 * SECOND);
      long t0 = 1_000 * SECOND;
      Source attacker = Source.of(ip("127.0.0.77"), 32, 64);
      refusals.refused("limits.pending-handshakes-per-source (256)", attacker, t0);
      assertThat(log.lines()).containsExactly("accept: refused 1 connection in 0.0s:"
          + " limits.pending-handshakes-per-source (256) 1; most from 127.0.0.77 (1)");
      for (int i = 0; i < 5000; i++) {
        refusals.refused("limits.pending-handshakes-per-source (256)", attacker, t0 + SECOND + i * 1000L);
      }
      refusals.refused("limits.sessions-total (100)", Source.of(ip("127.0.0.5"), 32, 64), t0 + 2 * SECOND);
      refusals.flush(t0 + 9 * SECOND);
      assertThat(log.lines()).hasSize(1);
      refusals.flush(t0 + 10 * SECOND);
      assertThat(log.lines()).hasSize(2).last().isEqualTo("accept: refused 5001 connections in 9.0s:"
          + " limits.pending-handshakes-per-source (256) 5000, limits.sessions-total (100) 1;"
          + " most from 127.0.0.77 (5000), 127.0.0.5 (1)");
      refusals.flush(t0 + 30 * SECOND);
      assertThat(log.lines()).as("nothing new, nothing said").hasSize(2);
      refusals.refused("limits.sessions-total (100)", null, t0 + 31 * SECOND);
      assertThat(log.lines()).hasSize(3).last().isEqualTo("accept: refused 1 connection in 0.0s:"
          + " limits.sessions-total (100) 1");
    }
  }
}
