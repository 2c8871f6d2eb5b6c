package dev.vxsocks.launcher;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code probe}: one SOCKS5 session against any SOCKS5 server, each phase timed ({@link Probe}). */
@Command(name = "probe", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {"One SOCKS5 session through --proxy to --target, each phase printed with its time (connect, "
        + "method, auth, the reply by its RFC 1928 name, the first byte back). Exit code 0 only when the session "
        + "got through: usable as a Kubernetes exec probe.",
        "The password (with --user) comes from $VXSOCKS_PROBE_PASSWORD, else the terminal, else the first line of "
            + "standard input; it is never printed."})
final class ProbeCommand implements Callable<Integer> {

  // Plain strings, checked by Probe, so that each mistake gets its own one-line message.
  @Option(names = "--proxy", paramLabel = "HOST:PORT", description = "The SOCKS5 server (required)")
  String proxy;

  @Option(names = "--target", paramLabel = "HOST:PORT", description = "Where to connect through it (required)")
  String target;

  @Option(names = "--user", paramLabel = "NAME", description = "Authenticate as NAME (RFC 1929); else method 'no auth'")
  String user;

  @Option(names = "--udp", description = "UDP ASSOCIATE, and one datagram to --target through the relay")
  boolean udp;

  @Option(names = "--send", paramLabel = "TEXT", description = "Send TEXT once the tunnel is up and wait for the "
      + "first byte back (without it the tunnel being up is the success)")
  String send;

  @Option(names = "--timeout", paramLabel = "MS", description = "Timeout of each step in milliseconds (default: 5000)")
  String timeout;

  private final Main.Io io;

  ProbeCommand(Main.Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    return Probe.run(proxy, target, user, udp, send, timeout, io.out(), io.err());
  }
}
