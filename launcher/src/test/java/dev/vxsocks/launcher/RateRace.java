package dev.vxsocks.launcher;

import dev.vxsocks.testing.RawClient;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Racing new sessions for the rate-limit tests: every entrant is first brought up to its request (connected from its
 * own source address on 127/8, greeted, logged in), then one thread sends all the CONNECT requests back to back and
 * reads every reply. What a rate limit of {@code L} per second may let through is bounded by the time the race took:
 * at most {@code L + L * seconds} ({@code dev.vxsocks.auth.Gcra}), and, when more than that many raced, at least
 * {@code L}.
 */
final class RateRace {

  /**
   * One client: the proxy port it uses, the address it connects from, its credentials (null: no auth) and its
   * command ({@link RawClient#CONNECT}, {@code BIND}, {@code UDP_ASSOCIATE}).
   */
  record Entrant(int proxyPort, String source, String user, String password, int command) {
    Entrant(int proxyPort, String source, String user, String password) {
      this(proxyPort, source, user, password, RawClient.CONNECT);
    }
  }

  /** The reply code each entrant got (-1: the proxy closed without one), and the race's duration. */
  record Result(List<Entrant> entrants, int[] codes, double seconds) {

    long granted(Predicate<Entrant> which) {
      int n = 0;
      for (int i = 0; i < codes.length; i++) {
        if (codes[i] == 0 && which.test(entrants.get(i))) {
          n++;
        }
      }
      return n;
    }

    long granted() {
      return granted(e -> true);
    }

    long refused() {
      int n = 0;
      for (int code : codes) {
        if (code == 2) {
          n++;
        }
      }
      return n;
    }

    /** The most a limit of {@code perSecond} may let through in this race. */
    long bound(int perSecond) {
      return perSecond + (long) Math.floor(perSecond * seconds);
    }

    /** Every entrant got 0x00 or 0x02, and the granted ones matching {@code which} are within {@code perSecond}'s bound. */
    void assertWithin(int perSecond, Predicate<Entrant> which, String what) {
      long n = granted(which);
      assertThat(n).as("%s: granted %d of %d in %.3f s; at least %d, at most %d", what, n,
          entrants.stream().filter(which).count(), seconds, perSecond, bound(perSecond)).isBetween((long) perSecond,
          bound(perSecond));
    }

    @Override
    public String toString() {
      return "granted " + granted() + ", refused " + refused() + " of " + codes.length + " in "
          + String.format("%.3f", seconds) + " s";
    }
  }

  private RateRace() {
  }

  /**
   * Brings every entrant up to its request, races their requests (CONNECT to 127.0.0.1:{@code targetPort}, BIND for
   * that peer, UDP ASSOCIATE from it), closes all.
   */
  static Result run(List<Entrant> entrants, int targetPort) throws IOException {
    List<RawClient> clients = new ArrayList<>(entrants.size());
    try {
      for (Entrant e : entrants) {
        clients.add(ready(e));
      }
      int[] codes = new int[entrants.size()];
      long start = System.nanoTime();
      for (int i = 0; i < clients.size(); i++) {
        clients.get(i).send(RawClient.request(entrants.get(i).command(), 127, 0, 0, 1, targetPort));
      }
      for (int i = 0; i < clients.size(); i++) {
        try {
          codes[i] = clients.get(i).reply().code();
        } catch (IOException closed) {
          codes[i] = -1;
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      for (int i = 0; i < codes.length; i++) {
        assertThat(codes[i]).as("reply to entrant %d, %s", i, entrants.get(i)).isIn(0, 2);
      }
      Result r = new Result(List.copyOf(entrants), codes, seconds);
      System.out.println("rate race: " + r);
      return r;
    } finally {
      for (RawClient c : clients) {
        c.close();
      }
    }
  }

  /**
   * A race of {@code n} entrants like {@code like} but from {@code source}, its outcome unchecked but for the reply
   * codes: run first so that the measured race does not pay for cold code paths (class loading, the JIT, a first
   * cluster call), which would stretch it and loosen its bound.
   */
  static Result warmUp(List<Entrant> like, String source, int targetPort) throws IOException {
    List<Entrant> warm = new ArrayList<>();
    for (Entrant e : like) {
      warm.add(new Entrant(e.proxyPort(), source, e.user(), e.password(), e.command()));
    }
    return run(warm, targetPort);
  }

  private static RawClient ready(Entrant e) throws IOException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.bind(new InetSocketAddress(InetAddress.getByName(e.source()), 0));
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), e.proxyPort()), 10_000);
      s.setSoTimeout(20_000);
      RawClient c = new RawClient(s);
      if (e.user() == null) {
        assertThat(c.greet(0)).as("method for %s", e).isZero();
      } else {
        assertThat(c.greet(2)).as("method for %s", e).isEqualTo(2);
        assertThat(c.login(e.user(), e.password())).as("login of %s", e).isZero();
      }
      return c;
    } catch (IOException | RuntimeException | Error failed) {
      s.close();
      throw failed;
    }
  }
}
