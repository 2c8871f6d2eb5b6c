/*
 * vxsocks benchmark load generator, loopback targets and report.
 *
 * One self-contained source file (JDK 17, no dependencies). bench/run.sh compiles it once with javac; it also runs
 * as `java bench/loadgen/LoadGen.java MODE --key value ...`.
 *
 * Modes:
 *   target  loopback servers the proxies connect to: on --port P an echo that closes first after ECHO_LEN bytes
 *           (session-rate target: the TIME_WAIT stays on the target side, so the client's ephemeral ports are not
 *           exhausted), P+1 a persistent echo (held sessions), P+2 a sink, P+3 a source (throughput).
 *   rate    session rate: N concurrent sessions, each connect, SOCKS5 greeting (no-auth or RFC 1929 username/password),
 *           CONNECT to the echo-close target, one ECHO_LEN round trip, wait for the close. Sessions/s and latency.
 *           With --sessions N: exactly N sessions (no window), for counting what the proxy spends on each.
 *   hold    open N proxied sessions to the persistent echo, each checked with one round trip, hold them idle for
 *           --settle seconds, read the proxy's memory (VmRSS, and the JVM heap through jcmd), then check that every
 *           one still echoes. --early-read S also reads VmRSS S seconds into the settle.
 *   tput    bulk throughput, 1 or more streams, upload (to the sink) and download (from the source), sampling the
 *           proxy's RSS for its peak.
 *   report  medians, ratios and the targets from the tab-separated results file the other modes append to.
 *
 * Every loop is bounded in time; targets are loopback addresses only.
 */
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

public final class LoadGen {

  static final int ECHO_LEN = 32;

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: LoadGen target|rate|hold|tput|report --key value ...");
      System.exit(2);
    }
    Opts o = new Opts(Arrays.copyOfRange(args, 1, args.length));
    switch (args[0]) {
      case "target" -> Target.run(o);
      case "rate" -> Rate.run(o);
      case "hold" -> Hold.run(o);
      case "tput" -> Tput.run(o);
      case "report" -> Report.run(o);
      default -> {
        System.err.println("unknown mode " + args[0]);
        System.exit(2);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ options

  static final class Opts {
    final Map<String, String> m = new LinkedHashMap<>();

    Opts(String[] a) {
      for (int i = 0; i < a.length; i++) {
        if (!a[i].startsWith("--")) throw new IllegalArgumentException("expected --key, got " + a[i]);
        String k = a[i].substring(2);
        if (i + 1 < a.length && !a[i + 1].startsWith("--")) m.put(k, a[++i]);
        else m.put(k, "true");
      }
    }

    String s(String k, String d) { return m.getOrDefault(k, d); }
    int i(String k, int d) { return m.containsKey(k) ? Integer.parseInt(m.get(k)) : d; }
    double d(String k, double d) { return m.containsKey(k) ? Double.parseDouble(m.get(k)) : d; }
    boolean b(String k) { return Boolean.parseBoolean(m.getOrDefault(k, "false")); }

    String req(String k) {
      String v = m.get(k);
      if (v == null) throw new IllegalArgumentException("--" + k + " is required");
      return v;
    }
  }

  static InetSocketAddress addr(String hostPort) {
    int c = hostPort.lastIndexOf(':');
    String h = hostPort.substring(0, c);
    if (h.startsWith("[")) h = h.substring(1, h.length() - 1);
    try {
      // numeric or localhost only: this machine resolves nothing else
      InetAddress ia = InetAddress.getByName(h);
      if (!ia.isLoopbackAddress()) throw new IllegalArgumentException("not a loopback address: " + h);
      return new InetSocketAddress(ia, Integer.parseInt(hostPort.substring(c + 1)));
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** Results are appended as: metric TAB subject TAB round TAB value. */
  static final class Results {
    final Path file;
    final String subject;
    final String round;

    Results(Opts o) {
      String f = o.s("out", "");
      file = f.isEmpty() ? null : Path.of(f);
      subject = o.s("subject", "?");
      round = o.s("round", "0");
    }

    void put(String metric, double value) throws IOException {
      String line = metric + "\t" + subject + "\t" + round + "\t" + fmt(value) + "\n";
      System.out.print(subject + " r" + round + " " + metric + " = " + fmt(value) + "\n");
      if (file != null) {
        Files.writeString(file, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      }
    }
  }

  static String fmt(double v) {
    if (Double.isNaN(v)) return "NaN";
    if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
    return String.format(Locale.ROOT, "%.3f", v);
  }

  // ------------------------------------------------------------------------------------------------ SOCKS5

  /** Client side of RFC 1928 / RFC 1929 as a byte-level state machine shared by the NIO modes. */
  static final class Socks {
    final boolean direct;
    final byte[] greeting;
    final byte[] authRequest; // null: no-auth
    final byte[] connectRequest;

    Socks(Opts o, InetSocketAddress target) {
      direct = o.b("direct") || o.s("proxy", "").isEmpty();
      String auth = o.s("auth", "");
      if (auth.isEmpty()) {
        greeting = new byte[] {5, 1, 0};
        authRequest = null;
      } else {
        greeting = new byte[] {5, 1, 2};
        int c = auth.indexOf(':');
        byte[] u = auth.substring(0, c).getBytes(StandardCharsets.UTF_8);
        byte[] p = auth.substring(c + 1).getBytes(StandardCharsets.UTF_8);
        authRequest = new byte[3 + u.length + p.length];
        authRequest[0] = 1;
        authRequest[1] = (byte) u.length;
        System.arraycopy(u, 0, authRequest, 2, u.length);
        authRequest[2 + u.length] = (byte) p.length;
        System.arraycopy(p, 0, authRequest, 3 + u.length, p.length);
      }
      byte[] ip = target.getAddress().getAddress();
      connectRequest = new byte[6 + ip.length];
      connectRequest[0] = 5;
      connectRequest[1] = 1; // CONNECT
      connectRequest[2] = 0;
      connectRequest[3] = (byte) (ip.length == 4 ? 1 : 4);
      System.arraycopy(ip, 0, connectRequest, 4, ip.length);
      connectRequest[4 + ip.length] = (byte) (target.getPort() >> 8);
      connectRequest[5 + ip.length] = (byte) target.getPort();
    }

    /** Blocking handshake for the throughput mode. */
    void handshake(SocketChannel ch) throws IOException {
      if (direct) return;
      writeAll(ch, greeting);
      byte[] r = readN(ch, 2);
      if (r[0] != 5 || r[1] != greeting[2]) throw new IOException("method reply " + r[0] + "," + r[1]);
      if (authRequest != null) {
        writeAll(ch, authRequest);
        r = readN(ch, 2);
        if (r[1] != 0) throw new IOException("auth status " + r[1]);
      }
      writeAll(ch, connectRequest);
      r = readN(ch, 4);
      if (r[1] != 0) throw new IOException("reply code " + r[1]);
      int rest = r[3] == 1 ? 6 : r[3] == 4 ? 18 : (readN(ch, 1)[0] & 0xff) + 2;
      readN(ch, rest);
    }

    static void writeAll(SocketChannel ch, byte[] b) throws IOException {
      ByteBuffer bb = ByteBuffer.wrap(b);
      while (bb.hasRemaining()) ch.write(bb);
    }

    static byte[] readN(SocketChannel ch, int n) throws IOException {
      ByteBuffer bb = ByteBuffer.allocate(n);
      while (bb.hasRemaining()) if (ch.read(bb) < 0) throw new IOException("EOF in handshake");
      return bb.array();
    }
  }

  /**
   * One non-blocking client session: connect, handshake, then round trips of ECHO_LEN bytes. The owner drives it
   * from its selector loop; `onReadable()` consumes what is readable and says what happened.
   */
  static final class Session {
    static final int CONNECTING = 0, METHOD = 1, AUTH = 2, REPLY = 3, READY = 4, ECHO = 5, DRAIN = 6, DONE = 7;

    final Socks socks;
    final SocketChannel ch;
    final ByteBuffer in = ByteBuffer.allocate(64);
    SelectionKey key;
    int state = CONNECTING;
    long startNanos;
    long echoNanos;
    long deadlineNanos;
    String error;

    Session(Socks socks, SocketChannel ch) {
      this.socks = socks;
      this.ch = ch;
    }

    static final byte[] PAYLOAD = new byte[ECHO_LEN];
    static {
      for (int i = 0; i < ECHO_LEN; i++) PAYLOAD[i] = (byte) ('a' + i % 26);
    }

    void send(byte[] b) throws IOException {
      ByteBuffer bb = ByteBuffer.wrap(b);
      ch.write(bb);
      if (bb.hasRemaining()) throw new IOException("short write of a " + b.length + "-byte message");
    }

    /** Called once the TCP connection is up. */
    void connected() throws IOException {
      if (socks.direct) {
        state = READY;
      } else {
        send(socks.greeting);
        state = METHOD;
      }
    }

    /** What {@link #advance} returns while the TCP connect is still pending. */
    static final int PENDING = -2;

    /**
     * One selected key: finishes the connect, or reads. Returns {@link #PENDING} while the connect is not done yet,
     * 1 right after connecting without a proxy (READY at once), otherwise as {@link #onReadable}.
     */
    int advance(SelectionKey k, ByteBuffer scratch) {
      try {
        if (k.isValid() && k.isConnectable()) {
          if (!ch.finishConnect()) return PENDING;
          k.interestOps(SelectionKey.OP_READ);
          connected();
          return socks.direct ? 1 : 0;
        }
        return onReadable(scratch);
      } catch (IOException e) {
        error = "io-" + stateName();
        return -1;
      }
    }

    /** Starts one echo round trip (READY -> ECHO). */
    void ping() throws IOException {
      in.clear();
      send(PAYLOAD);
      state = ECHO;
    }

    /**
     * Reads what is available and advances. Returns: 0 nothing new, 1 handshake finished (READY), 2 echo round
     * trip finished (READY again), 3 EOF seen in DRAIN, -1 error (see `error`).
     */
    int onReadable(ByteBuffer scratch) {
      try {
        if (state == DRAIN || state == READY) {
          scratch.clear();
          int n = ch.read(scratch);
          if (n < 0) {
            if (state == DRAIN) { state = DONE; return 3; }
            error = "eof-idle";
            return -1;
          }
          if (n > 0 && state == READY) { error = "unexpected-bytes"; return -1; }
          return 0;
        }
        int n = ch.read(in);
        if (n < 0) { error = "eof-" + stateName(); return -1; }
        return advance();
      } catch (IOException e) {
        error = "io-" + stateName();
        return -1;
      }
    }

    private int advance() throws IOException {
      int pos = in.position();
      switch (state) {
        case METHOD:
          if (pos < 2) return 0;
          if (in.get(0) != 5 || in.get(1) != socks.greeting[2]) { error = "method"; return -1; }
          if (pos > 2) { error = "extra-bytes"; return -1; }
          in.clear();
          if (socks.authRequest != null) {
            send(socks.authRequest);
            state = AUTH;
          } else {
            send(socks.connectRequest);
            state = REPLY;
          }
          return 0;
        case AUTH:
          if (pos < 2) return 0;
          if (in.get(1) != 0) { error = "auth-failed"; return -1; }
          in.clear();
          send(socks.connectRequest);
          state = REPLY;
          return 0;
        case REPLY: {
          if (pos < 5) return 0;
          if (in.get(1) != 0) { error = "reply-" + in.get(1); return -1; }
          int atyp = in.get(3);
          int len = atyp == 1 ? 10 : atyp == 4 ? 22 : 7 + (in.get(4) & 0xff);
          if (pos < len) return 0;
          if (pos > len) { error = "extra-bytes"; return -1; }
          in.clear();
          state = READY;
          return 1;
        }
        case ECHO:
          if (pos < ECHO_LEN) return 0;
          if (pos > ECHO_LEN) { error = "extra-bytes"; return -1; }
          for (int i = 0; i < ECHO_LEN; i++) {
            if (in.get(i) != PAYLOAD[i]) { error = "echo-mismatch"; return -1; }
          }
          in.clear();
          state = READY;
          return 2;
        default:
          return 0;
      }
    }

    String stateName() {
      return switch (state) {
        case CONNECTING -> "connect";
        case METHOD -> "method";
        case AUTH -> "auth";
        case REPLY -> "reply";
        case READY -> "ready";
        case ECHO -> "echo";
        case DRAIN -> "drain";
        default -> "done";
      };
    }

    void close(boolean abortive) {
      try {
        if (abortive) ch.setOption(StandardSocketOptions.SO_LINGER, 0);
      } catch (IOException ignored) {
        // already closed
      }
      try {
        ch.close();
      } catch (IOException ignored) {
        // nothing left to do
      }
    }
  }

  static SocketChannel openNonBlocking() throws IOException {
    SocketChannel ch = SocketChannel.open();
    ch.configureBlocking(false);
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    return ch;
  }

  static void countError(Map<String, Integer> errors, String e) {
    errors.merge(e == null ? "?" : e, 1, Integer::sum);
  }

  // ------------------------------------------------------------------------------------------------ rate

  static final class Rate {
    static void run(Opts o) throws Exception {
      InetSocketAddress target = addr(o.req("target"));
      Socks socks = new Socks(o, target);
      InetSocketAddress connectTo = socks.direct ? target : addr(o.req("proxy"));
      int concurrency = o.i("concurrency", 128);
      int threads = Math.max(1, Math.min(o.i("threads", 1), concurrency));
      long warmupNs = (long) (o.d("warmup", 1) * 1e9);
      long durationNs = (long) (o.d("duration", 5) * 1e9);
      long sessionTimeoutNs = (long) (o.d("session-timeout", 10) * 1e9);
      // --sessions N: start at most N sessions in all (the syscall count divides by a known number), then stop
      // early once they are done; the time bound still holds
      long sessionCap = Long.parseLong(o.s("sessions", "0"));
      Results res = new Results(o);

      // --pid PID[,PID...]: the proxy's processes (several for a cluster of nodes on this machine), CPU summed.
      long[] pids = Arrays.stream(o.s("pid", "0").split(",")).mapToLong(Long::parseLong).filter(x -> x > 0).toArray();
      long t0 = System.nanoTime();
      Worker[] ws = new Worker[threads];
      Thread[] ts = new Thread[threads];
      for (int i = 0; i < threads; i++) {
        int share = concurrency / threads + (i < concurrency % threads ? 1 : 0);
        ws[i] = new Worker(socks, connectTo, share, t0 + warmupNs, t0 + warmupNs + durationNs, sessionTimeoutNs);
        if (sessionCap > 0) ws[i].startCap = sessionCap / threads + (i < sessionCap % threads ? 1 : 0);
        ts[i] = new Thread(ws[i], "rate-" + i);
        ts[i].start();
      }
      if (sessionCap > 0) {
        // a fixed number of sessions: every one counts, and the run ends when they are done
        for (int i = 0; i < threads; i++) ts[i].join();
        long done = 0;
        long failed = 0;
        Map<String, Integer> errors = new TreeMap<>();
        for (Worker w : ws) {
          if (w.failure != null) throw w.failure;
          done += w.allCompleted;
          failed += w.started - w.allCompleted;
          w.errors.forEach((k, v) -> errors.merge(k, v, Integer::sum));
        }
        String p = o.s("prefix", socks.authRequest == null ? "rate" : "rate_auth");
        res.put(p + "_sessions_completed", done);
        res.put(p + "_sessions_failed", failed);
        if (!errors.isEmpty()) System.out.println("  errors by kind: " + errors);
        System.out.printf(Locale.ROOT, "  (%s: %.1f s wall)%n", res.subject, (System.nanoTime() - t0) / 1e9);
        return;
      }
      // CPU used during the measured window: the proxy's (all its processes) and the load generator's own
      sleepUntil(t0 + warmupNs);
      long proxyCpu0 = cpuNanos(pids);
      long ownCpu0 = ownCpuNanos();
      sleepUntil(t0 + warmupNs + durationNs);
      long proxyCpu1 = cpuNanos(pids);
      long ownCpu1 = ownCpuNanos();
      long completed = 0;
      long errorsInWindow = 0;
      int nLat = 0;
      Map<String, Integer> errors = new TreeMap<>();
      for (int i = 0; i < threads; i++) {
        ts[i].join();
        if (ws[i].failure != null) throw ws[i].failure;
        completed += ws[i].completed;
        errorsInWindow += ws[i].errorsInWindow;
        nLat += ws[i].nLat;
        ws[i].errors.forEach((k, v) -> errors.merge(k, v, Integer::sum));
      }
      long[] l = new long[nLat];
      int off = 0;
      for (Worker w : ws) {
        System.arraycopy(w.lat, 0, l, off, w.nLat);
        off += w.nLat;
      }
      Arrays.sort(l);
      double secs = durationNs / 1e9;
      String p = o.s("prefix", socks.authRequest == null ? "rate" : "rate_auth");
      res.put(p + "_sessions_per_s", completed / secs);
      res.put(p + "_p50_ms", pct(l, 0.50) / 1e6);
      res.put(p + "_p99_ms", pct(l, 0.99) / 1e6);
      res.put(p + "_p999_ms", pct(l, 0.999) / 1e6);
      res.put(p + "_errors", errorsInWindow);
      if (pids.length > 0 && completed > 0) res.put(p + "_proxy_cpu_us_per_session", (proxyCpu1 - proxyCpu0) / 1e3 / completed);
      res.put(p + "_loadgen_cpu_pct", 100.0 * (ownCpu1 - ownCpu0) / durationNs);
      if (!errors.isEmpty()) System.out.println("  errors by kind: " + errors);
      System.out.printf(Locale.ROOT, "  (%s: %.1f s wall)%n", res.subject, (System.nanoTime() - t0) / 1e9);
    }

    /** One selector thread driving its share of the concurrent sessions. */
    static final class Worker implements Runnable {
      final Socks socks;
      final InetSocketAddress connectTo;
      final int concurrency;
      final long measureFrom;
      final long measureTo;
      final long sessionTimeoutNs;
      long[] lat = new long[1 << 18];
      int nLat;
      long completed;
      long errorsInWindow;
      long startCap = Long.MAX_VALUE; // sessions this worker may start in all
      long started;
      long allCompleted; // in the window or not
      final Map<String, Integer> errors = new TreeMap<>();
      Exception failure;

      Worker(Socks socks, InetSocketAddress connectTo, int concurrency, long measureFrom, long measureTo,
         long sessionTimeoutNs) {
        this.socks = socks;
        this.connectTo = connectTo;
        this.concurrency = concurrency;
        this.measureFrom = measureFrom;
        this.measureTo = measureTo;
        this.sessionTimeoutNs = sessionTimeoutNs;
      }

      @Override
      public void run() {
        try {
          loop();
        } catch (Exception e) {
          failure = e;
        }
      }

      /** Errors count against the window in which their session started. */
      boolean inWindow(long startNanos) {
        return startNanos >= measureFrom && startNanos < measureTo;
      }

      void loop() throws IOException {
        Selector sel = Selector.open();
        ByteBuffer scratch = ByteBuffer.allocate(256);
        long t0 = System.nanoTime();
        long hardStop = measureTo + sessionTimeoutNs;
        List<Session> live = new ArrayList<>();
        long lastScan = t0;
        // session count is bounded by time; concurrency by the slots below
        int open = 0;
        while (true) {
          long now = System.nanoTime();
          boolean starting = now < measureTo && started < startCap;
          while (starting && open < concurrency) {
            Session s = start(sel, socks, connectTo, now, sessionTimeoutNs, errors);
            if (s != null) {
              live.add(s);
              open++;
              started++;
            } else {
              if (now >= measureFrom) errorsInWindow++;
              break;
            }
          }
          if (!starting && open == 0) break;
          if (now > hardStop) break;
          sel.select(100);
          now = System.nanoTime();
          Iterator<SelectionKey> it = sel.selectedKeys().iterator();
          while (it.hasNext()) {
            SelectionKey k = it.next();
            it.remove();
            Session s = (Session) k.attachment();
            if (s.state == Session.DONE) continue;
            int r = s.advance(k, scratch);
            if (r == Session.PENDING) continue;
            try {
              if (r == 1) {
                s.ping();
              } else if (r == 2) {
                s.echoNanos = now;
                s.state = Session.DRAIN;
              } else if (r == 3) {
                allCompleted++;
                if (s.echoNanos >= measureFrom && s.echoNanos < measureTo) {
                  completed++;
                  if (nLat == lat.length) lat = Arrays.copyOf(lat, lat.length * 2);
                  lat[nLat++] = s.echoNanos - s.startNanos;
                }
                s.close(false);
                open--;
              }
            } catch (IOException e) {
              s.error = "io-" + s.stateName();
              r = -1;
            }
            if (r == -1) {
              if (inWindow(s.startNanos)) errorsInWindow++;
              countError(errors, s.error);
              s.state = Session.DONE;
              s.close(true);
              open--;
            }
          }
          if (now - lastScan > 200_000_000L) {
            lastScan = now;
            final long t = now;
            int[] timedOut = {0};
            live.removeIf(s -> {
              if (s.state == Session.DONE) return true;
              if (t <= s.deadlineNanos) return false;
              countError(errors, "timeout-" + s.stateName());
              s.state = Session.DONE;
              s.close(true);
              timedOut[0]++;
              if (inWindow(s.startNanos)) errorsInWindow++;
              return true;
            });
            open -= timedOut[0];
          }
        }
        for (Session s : live) if (s.state != Session.DONE) s.close(true);
        sel.close();
      }
    }

    static Session start(Selector sel, Socks socks, InetSocketAddress to, long now, long timeoutNs,
              Map<String, Integer> errors) {
      SocketChannel ch = null;
      try {
        ch = openNonBlocking();
        Session s = new Session(socks, ch);
        s.startNanos = now;
        s.deadlineNanos = now + timeoutNs;
        boolean done = ch.connect(to);
        if (done) {
          s.key = ch.register(sel, SelectionKey.OP_READ, s);
          s.connected();
          if (socks.direct) s.ping();
        } else {
          s.key = ch.register(sel, SelectionKey.OP_CONNECT, s);
        }
        return s;
      } catch (IOException e) {
        countError(errors, "connect: " + e.getMessage());
        if (ch != null) {
          try { ch.close(); } catch (IOException ignored) { /* nothing */ }
        }
        try { Thread.sleep(1); } catch (InterruptedException ie) { Thread.currentThread().interrupt(); }
        return null;
      }
    }
  }

  static double pct(long[] sorted, double q) {
    if (sorted.length == 0) return Double.NaN;
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  // ------------------------------------------------------------------------------------------------ memory

  /**
   * Resident memory of a proxy in KiB: VmRSS of the process, or for a process tree (Dante forks children) the sum
   * of Pss over the tree so shared pages are not counted once per child.
   */
  static long memoryKiB(long pid) {
    List<Long> tree = new ArrayList<>();
    tree.add(pid);
    for (int i = 0; i < tree.size(); i++) tree.addAll(children(tree.get(i)));
    if (tree.size() == 1) return statusField(pid, "VmRSS:");
    long sum = 0;
    for (long p : tree) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/" + p + "/smaps_rollup"))) {
          if (line.startsWith("Pss:")) sum += Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      } catch (IOException e) {
        // process gone between listing and reading
      }
    }
    return sum;
  }

  static void sleepUntil(long nanoTime) throws InterruptedException {
    long d;
    while ((d = nanoTime - System.nanoTime()) > 0) Thread.sleep(Math.max(1, d / 1_000_000), 0);
  }

  /** {@link #cpuNanos(long)} summed over {@code pids}. */
  static long cpuNanos(long[] pids) {
    long sum = 0;
    for (long pid : pids) sum += cpuNanos(pid);
    return sum;
  }

  /** CPU time (user + system) of a process and its descendants, from /proc/PID/stat, in nanoseconds. */
  static long cpuNanos(long pid) {
    List<Long> tree = new ArrayList<>();
    tree.add(pid);
    for (int i = 0; i < tree.size(); i++) tree.addAll(children(tree.get(i)));
    long ticks = 0;
    for (long p : tree) {
      try {
        String st = Files.readString(Path.of("/proc/" + p + "/stat"));
        String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
      } catch (IOException | RuntimeException e) {
        // gone
      }
    }
    return ticks * 10_000_000L; // USER_HZ is 100 on Linux
  }

  static long ownCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  static int processCount(long pid) {
    List<Long> tree = new ArrayList<>();
    tree.add(pid);
    for (int i = 0; i < tree.size(); i++) tree.addAll(children(tree.get(i)));
    return tree.size();
  }

  static List<Long> children(long pid) {
    List<Long> out = new ArrayList<>();
    Path task = Path.of("/proc/" + pid + "/task");
    try (var tasks = Files.list(task)) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        Path c = t.resolve("children");
        if (!Files.exists(c)) continue;
        for (String s : Files.readString(c).trim().split("\\s+")) if (!s.isEmpty()) out.add(Long.parseLong(s));
      }
    } catch (IOException e) {
      // gone
    }
    return out;
  }

  static long statusField(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith(field)) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (IOException e) {
      // gone
    }
    return -1;
  }

  /** `jcmd PID GC.heap_info` "used" of the whole heap, in KiB; -1 if jcmd is unavailable. */
  static long heapUsedKiB(long pid, boolean fullGcFirst) {
    long[] r = heapUsedKiB(pid, fullGcFirst ? new String[] {"GC.run", "GC.heap_info"} : new String[] {"GC.heap_info"});
    return r.length == 0 ? -1 : r[r.length - 1];
  }

  /** Runs the jcmd commands in one attach; returns the heap "used" figure of each GC.heap_info, in KiB. */
  static long[] heapUsedKiB(long pid, String... commands) {
    List<Long> used = new ArrayList<>();
    try {
      Path f = Files.createTempFile("loadgen-jcmd", ".txt");
      try {
        Files.writeString(f, String.join("\n", commands) + "\n");
        String out = runCmd("jcmd", Long.toString(pid), "-f", f.toString());
        for (String line : out.split("\n")) {
          int u = line.indexOf(" used ");
          if (line.contains("total") && u > 0) {
            String rest = line.substring(u + 6).trim();
            used.add(Long.parseLong(rest.substring(0, rest.indexOf('K'))));
          }
        }
      } finally {
        Files.deleteIfExists(f);
      }
    } catch (Exception e) {
      System.out.println("  jcmd failed: " + e);
    }
    return used.stream().mapToLong(Long::longValue).toArray();
  }

  static String runCmd(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out;
    try (InputStream in = p.getInputStream()) {
      out = in.readAllBytes();
    }
    if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly();
    return new String(out, StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------------------------------------ hold

  static final class Hold {
    static void run(Opts o) throws Exception {
      InetSocketAddress target = addr(o.req("target"));
      Socks socks = new Socks(o, target);
      InetSocketAddress connectTo = socks.direct ? target : addr(o.req("proxy"));
      int n = o.i("sessions", 9900);
      int parallel = o.i("open-concurrency", 256);
      long openTimeoutNs = (long) (o.d("open-timeout", 60) * 1e9);
      long settleMs = (long) (o.d("settle", 2) * 1000);
      long pid = Long.parseLong(o.s("pid", "0"));
      boolean jvm = o.b("jvm");
      Results res = new Results(o);

      // JVM: a full GC first, so idle is the live heap and the committed memory after it
      long heapLiveIdle = (pid > 0 && jvm) ? heapUsedKiB(pid, true) : -1;
      if (heapLiveIdle >= 0) Thread.sleep(500);
      long rssIdle = pid > 0 ? memoryKiB(pid) : -1;
      Selector sel = Selector.open();
      ByteBuffer scratch = ByteBuffer.allocate(256);
      List<Session> held = new ArrayList<>(n);
      Map<String, Integer> errors = new TreeMap<>();
      int inProgress = 0;
      int started = 0;
      int failed = 0;
      long t0 = System.nanoTime();
      long deadline = t0 + openTimeoutNs;
      // open: bounded number of handshakes in flight, each session verified with one echo before it counts
      while (held.size() < n && System.nanoTime() < deadline) {
        while (inProgress < parallel && started < n + n / 10 && held.size() + inProgress < n) {
          Session s = Rate.start(sel, socks, connectTo, System.nanoTime(), openTimeoutNs, errors);
          started++;
          if (s == null) { failed++; continue; }
          inProgress++;
        }
        if (inProgress == 0) break;
        sel.select(100);
        Iterator<SelectionKey> it = sel.selectedKeys().iterator();
        while (it.hasNext()) {
          SelectionKey k = it.next();
          it.remove();
          Session s = (Session) k.attachment();
          if (s.state == Session.DONE) continue;
          int r = s.advance(k, scratch);
          if (r == Session.PENDING) continue;
          try {
            if (r == 1) {
              s.ping();
            } else if (r == 2) {
              held.add(s);
              inProgress--;
            }
          } catch (IOException e) {
            s.error = "io-" + s.stateName();
            r = -1;
          }
          if (r == -1 || r == 3) {
            countError(errors, s.error == null ? "closed" : s.error);
            s.state = Session.DONE;
            s.close(true);
            if (held.remove(s)) {
              // a held session died
            } else {
              inProgress--;
            }
            failed++;
          }
        }
      }
      double openSecs = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "  opened %d sessions in %.1f s (%d failures) %s%n", held.size(), openSecs,
          failed, errors.isEmpty() ? "" : errors.toString());
      // the proxy's memory shortly after the burst of opens, as well as after the whole settle
      long earlyMs = (long) (o.d("early-read", 0) * 1000);
      long rssEarly = -1;
      if (pid > 0 && earlyMs > 0 && earlyMs < settleMs) {
        Thread.sleep(earlyMs);
        rssEarly = memoryKiB(pid);
        Thread.sleep(settleMs - earlyMs);
      } else {
        Thread.sleep(settleMs);
      }
      // anything that arrived while idle (a close, stray bytes) marks a session as dead
      int died = 0;
      sel.selectNow();
      for (SelectionKey k : sel.selectedKeys()) {
        Session s = (Session) k.attachment();
        if (s.state == Session.READY && s.onReadable(scratch) != 0) {
          s.state = Session.DONE;
          died++;
        }
      }
      sel.selectedKeys().clear();
      long rssHeld = pid > 0 ? memoryKiB(pid) : -1;
      int procs = pid > 0 ? processCount(pid) : 0;
      long threads = pid > 0 ? statusField(pid, "Threads:") : -1;
      long[] heap = (pid > 0 && jvm) ? heapUsedKiB(pid, "GC.heap_info", "GC.run", "GC.heap_info") : new long[0];
      long heapUsed = heap.length == 2 ? heap[0] : -1;
      long heapLive = heap.length == 2 ? heap[1] : -1;

      // verify: every held session echoes once more
      int ok = verify(sel, held, scratch, (long) (o.d("verify-timeout", 30) * 1e9));
      for (Session s : held) s.close(true); // abortive: no TIME_WAIT left on the client's ports
      sel.close();

      res.put("hold_sessions_open", held.size());
      res.put("hold_sessions_echo_ok", ok);
      res.put("hold_open_s", openSecs);
      if (pid > 0) {
        res.put("hold_rss_idle_mib", rssIdle / 1024.0);
        res.put("hold_rss_held_mib", rssHeld / 1024.0);
        res.put("hold_rss_per_session_kib", perSession(rssHeld, rssIdle, held.size()));
        if (rssEarly >= 0) {
          res.put("hold_rss_early_per_session_kib", perSession(rssEarly, rssIdle, held.size()));
        }
        if (procs > 1) res.put("hold_processes", procs);
        else res.put("hold_threads", threads);
      }
      if (heapUsed >= 0) {
        res.put("hold_heap_used_mib", heapUsed / 1024.0);
        res.put("hold_heap_live_after_gc_mib", heapLive / 1024.0);
        if (!held.isEmpty() && heapLiveIdle >= 0) {
          res.put("hold_heap_live_per_session_kib", perSession(heapLive, heapLiveIdle, held.size()));
        }
      }
      if (died > 0) System.out.println("  " + died + " sessions closed while idle");
      System.out.printf(Locale.ROOT, "  (%s: %.1f s wall)%n", res.subject, (System.nanoTime() - t0) / 1e9);
    }

    /** KiB per held session: what holding them added to an idle figure, in KiB; NaN when none is held. */
    static double perSession(long heldKiB, long idleKiB, int sessions) {
      return sessions == 0 ? Double.NaN : (heldKiB - idleKiB) / (double) sessions;
    }

    static int verify(Selector sel, List<Session> held, ByteBuffer scratch, long timeoutNs) throws IOException {
      int pending = 0;
      for (Session s : held) {
        if (s.state != Session.READY) continue;
        try {
          s.ping();
          pending++;
        } catch (IOException e) {
          s.state = Session.DONE;
        }
      }
      int ok = 0;
      long deadline = System.nanoTime() + timeoutNs;
      while (pending > 0 && System.nanoTime() < deadline) {
        sel.select(100);
        Iterator<SelectionKey> it = sel.selectedKeys().iterator();
        while (it.hasNext()) {
          SelectionKey k = it.next();
          it.remove();
          Session s = (Session) k.attachment();
          if (s.state != Session.ECHO) continue;
          int r = s.onReadable(scratch);
          if (r == 2) { ok++; pending--; s.state = Session.DONE; }
          else if (r == -1) { pending--; s.state = Session.DONE; }
        }
      }
      return ok;
    }
  }

  // ------------------------------------------------------------------------------------------------ throughput

  static final class Tput {
    static void run(Opts o) throws Exception {
      InetSocketAddress sink = addr(o.req("sink"));
      InetSocketAddress source = addr(o.req("source"));
      double warmup = o.d("warmup", 0.5);
      double duration = o.d("duration", 3);
      long pid = Long.parseLong(o.s("pid", "0"));
      Results res = new Results(o);
      long rssBefore = pid > 0 ? memoryKiB(pid) : -1;
      long peak = rssBefore;
      for (String v : o.s("variants", "up1,down1,up4,down4").split(",")) {
        boolean up = v.startsWith("up");
        int streams = Integer.parseInt(v.replaceAll("[^0-9]", ""));
        InetSocketAddress target = up ? sink : source;
        Socks socks = new Socks(o, target);
        InetSocketAddress to = socks.direct ? target : addr(o.req("proxy"));
        double[] r = measure(to, socks, up, streams, warmup, duration, pid);
        res.put("tput_" + (up ? "up" : "down") + streams + "_mib_s", r[0]);
        // the proxy's own CPU (all threads, children included) per GiB it relayed in the measured window
        if (pid > 0 && r[2] > 0) {
          res.put("tput_" + (up ? "up" : "down") + streams + "_proxy_cpu_ms_per_gib", r[3] / 1e6 / (r[2] / 1073741824.0));
        }
        if (pid > 0) peak = Math.max(peak, (long) r[1]);
        Thread.sleep(100);
      }
      if (pid > 0) {
        res.put("tput_rss_before_mib", rssBefore / 1024.0);
        res.put("tput_rss_peak_mib", peak / 1024.0);
        res.put("tput_rss_growth_mib", (peak - rssBefore) / 1024.0);
      }
    }

    /** Returns {MiB/s, peak memory KiB, bytes in the measured window, the proxy's CPU ns in it}. */
    static double[] measure(InetSocketAddress to, Socks socks, boolean up, int streams, double warmup,
                double duration, long pid) throws Exception {
      AtomicLong[] counters = new AtomicLong[streams];
      SocketChannel[] chs = new SocketChannel[streams];
      Thread[] threads = new Thread[streams];
      long stopAt = System.nanoTime() + (long) ((warmup + duration + 5) * 1e9); // bound if a peer stalls
      for (int i = 0; i < streams; i++) {
        counters[i] = new AtomicLong();
        SocketChannel ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.connect(to);
        socks.handshake(ch);
        chs[i] = ch;
        AtomicLong c = counters[i];
        threads[i] = new Thread(() -> pump(ch, up, c, stopAt), "stream-" + i);
        threads[i].setDaemon(true);
      }
      for (Thread t : threads) t.start();
      long peak = 0;
      long tw = System.nanoTime() + (long) (warmup * 1e9);
      while (System.nanoTime() < tw) {
        if (pid > 0) peak = Math.max(peak, memoryKiB(pid));
        Thread.sleep(50);
      }
      long cpu0 = pid > 0 ? cpuNanos(pid) : 0;
      long b0 = sum(counters);
      long t0 = System.nanoTime();
      long te = t0 + (long) (duration * 1e9);
      while (System.nanoTime() < te) {
        if (pid > 0) peak = Math.max(peak, memoryKiB(pid));
        Thread.sleep(50);
      }
      long b1 = sum(counters);
      long t1 = System.nanoTime();
      long cpu1 = pid > 0 ? cpuNanos(pid) : 0;
      for (SocketChannel ch : chs) {
        try { ch.setOption(StandardSocketOptions.SO_LINGER, 0); ch.close(); } catch (IOException ignored) { /* */ }
      }
      for (Thread t : threads) t.join(2000);
      return new double[] {(b1 - b0) / ((t1 - t0) / 1e9) / (1024 * 1024), peak, b1 - b0, cpu1 - cpu0};
    }

    static long sum(AtomicLong[] cs) {
      long s = 0;
      for (AtomicLong c : cs) s += c.get();
      return s;
    }

    static void pump(SocketChannel ch, boolean up, AtomicLong counter, long stopAt) {
      ByteBuffer buf = ByteBuffer.allocateDirect(128 * 1024);
      try {
        while (System.nanoTime() < stopAt) {
          buf.clear();
          int n = up ? ch.write(buf) : ch.read(buf);
          if (n < 0) break;
          counter.addAndGet(n);
        }
      } catch (IOException e) {
        // closed by the measuring thread
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ target

  static final class Target {
    static void run(Opts o) throws Exception {
      int port = o.i("port", 17000);
      int threads = o.i("threads", 2);
      String[] hosts = o.s("hosts", "127.0.0.1").split(",");
      List<Thread> ts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Selector sel = Selector.open();
        for (String h : hosts) {
          InetAddress ia = InetAddress.getByName(h);
          if (!ia.isLoopbackAddress()) throw new IllegalArgumentException("not loopback: " + h);
          for (int kind = 0; kind < 4; kind++) {
            ServerSocketChannel ss = ServerSocketChannel.open();
            // every thread binds the same ports; the kernel spreads the connections
            ss.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            ss.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ss.bind(new InetSocketAddress(ia, port + kind), 4096);
            ss.configureBlocking(false);
            ss.register(sel, SelectionKey.OP_ACCEPT, kind);
          }
        }
        Thread th = new Thread(() -> loop(sel), "target-" + t);
        th.start();
        ts.add(th);
      }
      System.out.println("target listening on " + String.join(",", hosts) + " ports " + port + ".." + (port + 3));
      System.out.flush();
      long maxSecs = o.i("max-seconds", 3600);
      for (Thread th : ts) th.join(maxSecs * 1000);
      System.exit(0);
    }

    static final int ECHO_CLOSE = 0, ECHO = 1, SINK = 2, SOURCE = 3;

    static final class Conn {
      final int kind;
      final ByteBuffer buf; // ECHO_CLOSE: the message; ECHO: pending unwritten bytes
      Conn(int kind) {
        this.kind = kind;
        this.buf = kind == ECHO_CLOSE ? ByteBuffer.allocate(ECHO_LEN) : kind == ECHO ? ByteBuffer.allocate(4096) : null;
      }
    }

    static void loop(Selector sel) {
      ByteBuffer big = ByteBuffer.allocateDirect(256 * 1024);
      ByteBuffer src = ByteBuffer.allocateDirect(256 * 1024);
      while (src.hasRemaining()) src.put((byte) 'x');
      try {
        while (true) {
          sel.select();
          Iterator<SelectionKey> it = sel.selectedKeys().iterator();
          while (it.hasNext()) {
            SelectionKey k = it.next();
            it.remove();
            try {
              if (k.isAcceptable()) {
                int kind = (Integer) k.attachment();
                SocketChannel ch;
                while ((ch = ((ServerSocketChannel) k.channel()).accept()) != null) {
                  ch.configureBlocking(false);
                  ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                  ch.register(sel, kind == SOURCE ? SelectionKey.OP_WRITE : SelectionKey.OP_READ,
                      new Conn(kind));
                }
                continue;
              }
              handle(k, big, src);
            } catch (IOException e) {
              closeQuietly(k);
            }
          }
        }
      } catch (IOException e) {
        e.printStackTrace();
      }
    }

    static void handle(SelectionKey k, ByteBuffer big, ByteBuffer src) throws IOException {
      SocketChannel ch = (SocketChannel) k.channel();
      Conn c = (Conn) k.attachment();
      switch (c.kind) {
        case ECHO_CLOSE -> {
          int n = ch.read(c.buf);
          if (n < 0) { closeQuietly(k); return; }
          if (!c.buf.hasRemaining()) {
            c.buf.flip();
            ch.write(c.buf);
            closeQuietly(k); // the target closes first
          }
        }
        case ECHO -> {
          if (k.isWritable()) {
            ch.write(c.buf);
            if (c.buf.hasRemaining()) return;
            c.buf.clear();
            k.interestOps(SelectionKey.OP_READ);
            return;
          }
          big.clear();
          big.limit(c.buf.capacity());
          int n = ch.read(big);
          if (n < 0) { closeQuietly(k); return; }
          big.flip();
          ch.write(big);
          if (big.hasRemaining()) {
            c.buf.clear();
            c.buf.put(big);
            c.buf.flip();
            k.interestOps(SelectionKey.OP_WRITE);
          }
        }
        case SINK -> {
          while (true) {
            big.clear();
            int n = ch.read(big);
            if (n < 0) { closeQuietly(k); return; }
            if (n == 0) return;
          }
        }
        case SOURCE -> {
          while (true) {
            src.clear();
            if (ch.write(src) == 0) return;
          }
        }
        default -> closeQuietly(k);
      }
    }

    static void closeQuietly(SelectionKey k) {
      k.cancel();
      try {
        k.channel().close();
      } catch (IOException ignored) {
        // nothing to do
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ report

  static final class Report {
    static void run(Opts o) throws Exception {
      Path in = Path.of(o.req("in"));
      String ours = o.s("ours", "vxsocks");
      String direct = o.s("direct", "direct");
      List<String> subjectOrder = new ArrayList<>();
      Map<String, Map<String, List<Double>>> data = new TreeMap<>(); // metric -> subject -> values
      List<String> metricOrder = new ArrayList<>();
      for (String line : Files.readAllLines(in)) {
        String[] f = line.split("\t");
        if (f.length < 4) continue;
        if (!metricOrder.contains(f[0])) metricOrder.add(f[0]);
        if (!subjectOrder.contains(f[1])) subjectOrder.add(f[1]);
        double v = f[3].equals("NaN") ? Double.NaN : Double.parseDouble(f[3]);
        data.computeIfAbsent(f[0], x -> new LinkedHashMap<>()).computeIfAbsent(f[1], x -> new ArrayList<>()).add(v);
      }
      PrintStream out = System.out;
      out.println("Medians over rounds (n = rounds measured); columns in the order the subjects first ran.");
      out.println();
      StringBuilder h = new StringBuilder("| metric |");
      StringBuilder sep = new StringBuilder("| --- |");
      for (String s : subjectOrder) { h.append(' ').append(s).append(" |"); sep.append(" ---: |"); }
      out.println(h);
      out.println(sep);
      Map<String, Map<String, Double>> med = new LinkedHashMap<>();
      for (String m : metricOrder) {
        if (m.startsWith(SYSCALL_PREFIX)) continue; // their own table, below
        StringBuilder row = new StringBuilder("| " + m + " |");
        Map<String, Double> mm = new LinkedHashMap<>();
        for (String s : subjectOrder) {
          List<Double> vs = data.get(m).get(s);
          if (vs == null) { row.append(" |"); continue; }
          double md = median(vs);
          mm.put(s, md);
          row.append(' ').append(fmtCell(md)).append(vs.size() > 1 ? " (n=" + vs.size() + ")" : "").append(" |");
        }
        med.put(m, mm);
        out.println(row);
      }
      out.println();
      // ratios: ours / each peer, and each / direct, for the rate and throughput figures
      List<String> ratioMetrics = new ArrayList<>();
      for (String m : metricOrder) {
        if (m.endsWith("_sessions_per_s") || m.endsWith("_mib_s") || m.endsWith("_p99_ms")
            || m.endsWith("_proxy_cpu_us_per_session") || m.endsWith("_proxy_cpu_ms_per_gib")
            || m.equals("syscalls_per_session")) {
          ratioMetrics.add(m);
        }
      }
      String oursAuth = ours + "-auth";
      out.println("Ratios of medians: ours ÷ peer (for *_ms, CPU and system calls lower is better, so < 1 means"
          + " ours spends less), and subject ÷ direct (no proxy).");
      out.println();
      StringBuilder rh = new StringBuilder("| metric |");
      StringBuilder rs = new StringBuilder("| --- |");
      for (String s : subjectOrder) {
        if (s.equals(ours) || s.equals(oursAuth) || s.equals(direct)) continue;
        rh.append(" ours ÷ ").append(s).append(" |");
        rs.append(" ---: |");
      }
      for (String s : subjectOrder) {
        if (s.equals(direct)) continue;
        rh.append(' ').append(s).append(" ÷ direct |");
        rs.append(" ---: |");
      }
      out.println(rh);
      out.println(rs);
      for (String m : ratioMetrics) {
        Map<String, Double> mm = med.get(m);
        if (mm == null) continue;
        StringBuilder row = new StringBuilder("| " + m + " |");
        for (String s : subjectOrder) {
          if (s.equals(ours) || s.equals(oursAuth) || s.equals(direct)) continue;
          String mine = s.endsWith("-auth") ? oursAuth : ours;
          row.append(' ').append(ratio(mm.get(mine), mm.get(s))).append(" |");
        }
        for (String s : subjectOrder) {
          if (s.equals(direct)) continue;
          row.append(' ').append(ratio(mm.get(s), mm.get(direct))).append(" |");
        }
        out.println(row);
      }
      out.println();
      syscallTable(out, data, metricOrder, subjectOrder);
      targets(out, med, ours, oursAuth, subjectOrder, direct);
      out.println();
      headroom(out, med, subjectOrder, direct);
    }

    static final String SYSCALL_PREFIX = "syscall_";

    /**
     * System calls per CONNECT session by call (metrics syscall_NAME_per_session, and syscall_NAME_errors_per_session
     * for the failed ones), one column per subject, medians over rounds; the calls every subject makes fewer than
     * 0.05 times per session are summed in one row.
     */
    static void syscallTable(PrintStream out, Map<String, Map<String, List<Double>>> data, List<String> metricOrder,
        List<String> subjectOrder) {
      List<String> subjects = new ArrayList<>();
      for (String s : subjectOrder) {
        if (data.getOrDefault("syscalls_per_session", Map.of()).containsKey(s)) subjects.add(s);
      }
      if (subjects.isEmpty()) return;
      // rows ordered by the largest median over the subjects
      Map<String, Double> biggest = new LinkedHashMap<>();
      for (String m : metricOrder) {
        if (!m.startsWith(SYSCALL_PREFIX) || m.endsWith("_errors_per_session")) continue;
        double b = 0;
        for (String s : subjects) {
          List<Double> vs = data.get(m).get(s);
          if (vs != null) b = Math.max(b, median(vs));
        }
        biggest.put(m, b);
      }
      List<String> rows = new ArrayList<>(biggest.keySet());
      rows.sort((a, b) -> Double.compare(biggest.get(b), biggest.get(a)));
      out.println("System calls per CONNECT session, by call (strace -f -c on the proxy during the bounded run;"
          + " medians over rounds; in brackets, the calls that failed):");
      out.println();
      StringBuilder h = new StringBuilder("| call |");
      StringBuilder sep = new StringBuilder("| --- |");
      for (String s : subjects) { h.append(' ').append(s).append(" |"); sep.append(" ---: |"); }
      out.println(h);
      out.println(sep);
      double[] rest = new double[subjects.size()];
      for (String m : rows) {
        String name = m.substring(SYSCALL_PREFIX.length(), m.length() - "_per_session".length());
        if (biggest.get(m) < 0.05) {
          for (int i = 0; i < subjects.size(); i++) {
            List<Double> vs = data.get(m).get(subjects.get(i));
            if (vs != null) rest[i] += median(vs);
          }
          continue;
        }
        StringBuilder row = new StringBuilder("| " + name + " |");
        for (String s : subjects) {
          List<Double> vs = data.get(m).get(s);
          List<Double> es = data.getOrDefault(SYSCALL_PREFIX + name + "_errors_per_session", Map.of()).get(s);
          row.append(' ');
          if (vs != null) row.append(String.format(Locale.ROOT, "%.2f", median(vs)));
          if (es != null && median(es) >= 0.005) row.append(String.format(Locale.ROOT, " (%.2f)", median(es)));
          row.append(" |");
        }
        out.println(row);
      }
      StringBuilder row = new StringBuilder("| (each < 0.05) |");
      for (double r : rest) row.append(String.format(Locale.ROOT, " %.2f |", r));
      out.println(row);
      row = new StringBuilder("| **total** |");
      for (String s : subjects) {
        row.append(String.format(Locale.ROOT, " **%.1f** |", median(data.get("syscalls_per_session").get(s))));
      }
      out.println(row);
      out.println();
    }

    /** The load generator must outrun every proxy: direct (no proxy) against the fastest proxy, per figure. */
    static void headroom(PrintStream out, Map<String, Map<String, Double>> med, List<String> subjects, String direct) {
      out.println("Load-generator headroom (direct, no proxy, ÷ the fastest proxy; well above 1 means the load"
          + " generator was not the limit):");
      out.println();
      for (String m : new String[] {"rate_sessions_per_s", "tput_up1_mib_s", "tput_down1_mib_s", "tput_up4_mib_s",
          "tput_down4_mib_s"}) {
        Map<String, Double> mm = med.getOrDefault(m, Map.of());
        Double d = mm.get(direct);
        Double best = null;
        String bn = null;
        for (String s : subjects) {
          if (s.equals(direct) || mm.get(s) == null || mm.get(s).isNaN()) continue;
          if (best == null || mm.get(s) > best) { best = mm.get(s); bn = s; }
        }
        if (d == null || best == null) continue;
        out.printf(Locale.ROOT, "- %s: direct %.0f vs %s %.0f = %.1f×%n", m, d, bn, best, d / best);
      }
    }

    static void targets(PrintStream out, Map<String, Map<String, Double>> med, String ours, String oursAuth,
              List<String> subjects, String direct) {
      out.println("Single-node targets of issue 17 (for the record, not assertions; the cluster ones are"
          + " bench/cluster.sh's):");
      out.println();
      out.println("| target | measured | met? |");
      out.println("| --- | --- | --- |");
      Double sys = med.getOrDefault("syscalls_per_session", Map.of()).get(ours);
      line(out, "system calls per CONNECT session ≤ 32", sys == null ? null
          : String.format(Locale.ROOT, "%.1f", sys), sys == null ? null : sys <= 32);
      Map<String, Double> cpu = med.getOrDefault("rate_proxy_cpu_us_per_session", Map.of());
      Double mine = cpu.get(ours);
      Double low = null;
      String lowName = null;
      for (String peer : new String[] {"netty", "microsocks"}) {
        Double v = cpu.get(peer);
        if (v != null && (low == null || v < low)) { low = v; lowName = peer; }
      }
      line(out, "proxy CPU per session ≤ 0.9× the lower of Netty's example and microsocks",
          mine == null || low == null ? null
              : String.format(Locale.ROOT, "%.0f µs ÷ %.0f µs (%s) = %.2f×", mine, low, lowName, mine / low),
          mine == null || low == null ? null : mine <= 0.9 * low);
      bestPeer(out, "session rate ≥ the best peer's", med.getOrDefault("rate_sessions_per_s", Map.of()), ours,
          subjects, direct, true, "%.0f/s");
      bestPeer(out, "p99 ≤ the best peer's", med.getOrDefault("rate_p99_ms", Map.of()), ours, subjects, direct,
          false, "%.1f ms");
      Double r = med.getOrDefault("rate_sessions_per_s", Map.of()).get(ours);
      Double a = med.getOrDefault("rate_auth_sessions_per_s", Map.of()).get(oursAuth);
      line(out, "auth session rate ≥ 0.9× own no-auth rate", a == null || r == null ? null
          : String.format(Locale.ROOT, "%.0f/s ÷ %.0f/s = %.2f×", a, r, a / r),
          a == null || r == null ? null : a >= 0.9 * r);
      for (String[] t : new String[][] {{"tput_up1_mib_s", "single-stream upload"},
          {"tput_down1_mib_s", "single-stream download"}, {"tput_up4_mib_s", "4-stream upload"},
          {"tput_down4_mib_s", "4-stream download"}}) {
        bestPeer(out, t[1] + " ≥ the best peer's (kept)", med.getOrDefault(t[0], Map.of()), ours, subjects, direct,
            true, "%.0f MiB/s");
      }
      Double growth = med.getOrDefault("tput_rss_growth_mib", Map.of()).get(ours);
      line(out, "RSS flat under throughput (peak ≤ idle + 64 MiB, kept)", growth == null ? null
          : String.format(Locale.ROOT, "+%.1f MiB", growth), growth == null ? null : growth <= 64);
      Double held = med.getOrDefault("hold_sessions_echo_ok", Map.of()).get(ours);
      line(out, "≥ 9,900 held idle sessions, all still echo (kept)", held == null ? null
          : String.format(Locale.ROOT, "%.0f", held), held == null ? null : held >= 9900);
      Double per = med.getOrDefault("hold_rss_per_session_kib", Map.of()).get(ours);
      line(out, "≤ 6 KiB RSS per held session (kept)", per == null ? null : String.format(Locale.ROOT, "%.1f KiB", per),
          per == null ? null : per <= 6);
    }

    /** ours against the best peer (highest if higherIsBetter, else lowest) of a no-auth figure. */
    static void bestPeer(PrintStream out, String what, Map<String, Double> mm, String ours, List<String> subjects,
        String direct, boolean higherIsBetter, String unit) {
      Double bp = null;
      String bn = null;
      for (String s : subjects) {
        Double v = mm.get(s);
        if (s.equals(ours) || s.equals(direct) || s.endsWith("-auth") || v == null || v.isNaN()) continue;
        if (bp == null || (higherIsBetter ? v > bp : v < bp)) { bp = v; bn = s; }
      }
      Double mine = mm.get(ours);
      line(out, what, mine == null || bp == null ? null
          : String.format(Locale.ROOT, unit + " vs " + unit + " (%s) = %.2f×", mine, bp, bn, mine / bp),
          mine == null || bp == null ? null : higherIsBetter ? mine >= bp : mine <= bp);
    }

    static void line(PrintStream out, String what, String measured, Boolean met) {
      out.println("| " + what + " | " + (measured == null ? "not measured" : measured) + " | "
          + (met == null ? "—" : met ? "yes" : "**no**") + " |");
    }

    static double median(List<Double> vs) {
      double[] a = vs.stream().filter(x -> !x.isNaN()).mapToDouble(Double::doubleValue).sorted().toArray();
      if (a.length == 0) return Double.NaN;
      return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static String ratio(Double a, Double b) {
      if (a == null || b == null || b == 0 || a.isNaN() || b.isNaN()) return "";
      return String.format(Locale.ROOT, "%.2f", a / b);
    }

    static String fmtCell(double v) {
      if (Double.isNaN(v)) return "—";
      if (Math.abs(v) >= 100) return String.format(Locale.ROOT, "%.0f", v);
      if (Math.abs(v) >= 10) return String.format(Locale.ROOT, "%.1f", v);
      return String.format(Locale.ROOT, "%.3f", v);
    }
  }
}
