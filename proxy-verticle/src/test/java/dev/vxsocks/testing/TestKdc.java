package dev.vxsocks.testing;

import javax.security.auth.Subject;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.Configuration;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.fail;

/**
 * A Kerberos realm for the GSS-API tests: Debian's MIT KDC ({@code krb5-kdc}; principals made with
 * {@code kadmin.local} from {@code krb5-admin-server}; clients {@code kinit} from {@code krb5-user}), started once per
 * test JVM in a temporary folder, listening on 127.0.0.1 only, on a port chosen here. Nothing is resolved: the
 * service is {@code rcmd/localhost}, {@code krb5.conf} switches DNS lookups and reverse lookups off, and clients
 * talk TCP to the KDC's literal address. The JDK's Kerberos reads the same {@code krb5.conf}
 * ({@code java.security.krb5.conf} is set to it before any use).
 *
 * <p>The KDC runs under a shell that kills it (by the PID it started) when its standard input closes: when this JVM
 * closes the pipe at exit, or dies. A missing program fails the test with the Debian package to install.
 */
public final class TestKdc {

  public static final String REALM = "VXSOCKS.TEST";
  /** The proxy's service principal, as curl's {@code --socks5-gssapi-service rcmd/localhost} names it. */
  public static final String SERVICE = "rcmd/localhost@" + REALM;
  private static final long STEP_SECONDS = 20;
  private static TestKdc started;

  private final Path dir;
  private final int port;
  private final Map<String, String> env;
  private final Set<String> users = new HashSet<>();
  private Process kdc;

  private TestKdc(Path dir, int port) {
    this.dir = dir;
    this.port = port;
    this.env = Map.of("KRB5_CONFIG", dir.resolve("krb5.conf").toString(),
        "KRB5_KDC_PROFILE", dir.resolve("kdc.conf").toString());
  }

  /** The realm, started on first use. */
  public static synchronized TestKdc get() {
    if (started == null) {
      try {
        started = start();
      } catch (IOException e) {
        throw new IllegalStateException("cannot start the test KDC: " + e, e);
      }
    }
    return started;
  }

  private static TestKdc start() throws IOException {
    String kdb5Util = program("kdb5_util", "krb5-kdc");
    String kadmin = program("kadmin.local", "krb5-admin-server");
    String krb5kdc = program("krb5kdc", "krb5-kdc");
    program("kinit", "krb5-user");
    Path dir = Files.createTempDirectory("vxsocks-kdc");
    TestKdc kdc = new TestKdc(dir, freeTcpAndUdpPort());
    kdc.writeConfig();
    kdc.run(List.of(kdb5Util, "create", "-s", "-r", REALM, "-P", "test-master-key"));
    kdc.kadmin(kadmin, "addprinc -randkey " + SERVICE);
    // The wrong key: this keytab is written first; the next ktadd draws a new key (kvno + 1) for the real one.
    kdc.kadmin(kadmin, "ktadd -k " + kdc.staleKeytab() + " " + SERVICE);
    kdc.kadmin(kadmin, "ktadd -k " + kdc.serviceKeytab() + " " + SERVICE);
    kdc.kadmin(kadmin, "addprinc -randkey rcmd/other@" + REALM);
    kdc.kadmin(kadmin, "ktadd -k " + kdc.otherServiceKeytab() + " rcmd/other@" + REALM);
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", "\"$0\" -n -r " + REALM + " & k=$!; cat >/dev/null; kill $k; wait $k",
        krb5kdc).redirectErrorStream(true).redirectOutput(dir.resolve("krb5kdc.out").toFile());
    pb.environment().putAll(kdc.env);
    kdc.kdc = pb.start();
    Runtime.getRuntime().addShutdownHook(new Thread(kdc::stop, "test-kdc-stop"));
    kdc.awaitListening();
    System.setProperty("java.security.krb5.conf", dir.resolve("krb5.conf").toString());
    return kdc;
  }

  /** The folder holding the realm's files (database, keytabs, ccaches, logs). */
  public Path dir() {
    return dir;
  }

  public Path krb5Conf() {
    return dir.resolve("krb5.conf");
  }

  /** The current key of {@link #SERVICE}: the proxy's keytab. */
  public Path serviceKeytab() {
    return dir.resolve("proxy.keytab");
  }

  /** An older key of {@link #SERVICE}, replaced since: a node whose keytab was not updated. */
  public Path staleKeytab() {
    return dir.resolve("stale.keytab");
  }

  /** The key of another service, {@code rcmd/other}: a node given the wrong keytab. */
  public Path otherServiceKeytab() {
    return dir.resolve("other.keytab");
  }

  /**
   * Creates the principal {@code name@REALM} (once) and returns its keytab, which holds the key its password gives
   * ({@code ktadd -norandkey}): {@code kinit -k} and the JDK's login both use it, nobody types a password.
   */
  public synchronized Path user(String name) {
    Path keytab = dir.resolve(name.replace('/', '_') + ".keytab");
    if (users.add(name)) {
      String kadmin = program("kadmin.local", "krb5-admin-server");
      try {
        kadmin(kadmin, "addprinc -pw " + name + "-password " + name + "@" + REALM);
        kadmin(kadmin, "ktadd -norandkey -k " + keytab + " " + name + "@" + REALM);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return keytab;
  }

  /**
   * Draws a new key for the service principal {@code name} (made on first use) and writes it, alone, to a new keytab
   * file, which this returns: one more key version, as an operator's {@code ktadd} does when rotating.
   */
  public synchronized Path newServiceKey(String name) {
    String kadmin = program("kadmin.local", "krb5-admin-server");
    try {
      if (users.add(name)) {
        kadmin(kadmin, "addprinc -randkey " + name);
      }
      Path keytab = Files.createTempFile(dir, "service-", ".keytab");
      Files.delete(keytab);
      kadmin(kadmin, "ktadd -k " + keytab + " " + name);
      return keytab;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code kinit}s {@code name} into a credential cache of its own, for curl; returns the cache. */
  public Path kinit(String name) {
    Path keytab = user(name);
    Path ccache = dir.resolve("ccache-" + name.replace('/', '_'));
    try {
      run(List.of(program("kinit", "krb5-user"), "-c", "FILE:" + ccache, "-k", "-t", keytab.toString(),
          name + "@" + REALM));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return ccache;
  }

  /** {@code KRB5_CONFIG} and {@code KRB5CCNAME} for a Kerberos client using {@code ccache}. */
  public Map<String, String> clientEnv(Path ccache) {
    return Map.of("KRB5_CONFIG", krb5Conf().toString(), "KRB5CCNAME", "FILE:" + ccache);
  }

  /** {@code name}'s credentials in the JDK (Krb5LoginModule with its keytab): the subject a GSS initiator runs as. */
  public Subject login(String name) {
    Path keytab = user(name);
    Map<String, String> options = new HashMap<>();
    options.put("useKeyTab", "true");
    options.put("keyTab", keytab.toString());
    options.put("principal", name + "@" + REALM);
    options.put("doNotPrompt", "true");
    options.put("storeKey", "false");
    options.put("isInitiator", "true");
    options.put("refreshKrb5Config", "true");
    Configuration configuration = new Configuration() {
      @Override
      public AppConfigurationEntry[] getAppConfigurationEntry(String ignored) {
        return new AppConfigurationEntry[] {new AppConfigurationEntry("com.sun.security.auth.module.Krb5LoginModule",
            AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
      }
    };
    try {
      LoginContext login = new LoginContext("vxsocks-test", new Subject(), null, configuration);
      login.login();
      return login.getSubject();
    } catch (LoginException e) {
      throw new IllegalStateException("cannot log " + name + " in at the test KDC: " + e, e);
    }
  }

  private void writeConfig() throws IOException {
    Files.writeString(dir.resolve("krb5.conf"), String.join("\n",
        "[libdefaults]",
        "  default_realm = " + REALM,
        "  dns_lookup_kdc = false",
        "  dns_lookup_realm = false",
        "  rdns = false",
        "  dns_canonicalize_hostname = false",
        "  udp_preference_limit = 1",
        "  default_ccache_name = FILE:" + dir.resolve("ccache-default"),
        "[realms]",
        "  " + REALM + " = {",
        "    kdc = 127.0.0.1:" + port,
        "  }",
        "[domain_realm]",
        "  localhost = " + REALM,
        ""));
    Files.writeString(dir.resolve("kdc.conf"), String.join("\n",
        "[kdcdefaults]",
        "  kdc_listen = 127.0.0.1:" + port,
        "  kdc_tcp_listen = 127.0.0.1:" + port,
        "[realms]",
        "  " + REALM + " = {",
        "    database_name = " + dir.resolve("principal"),
        "    key_stash_file = " + dir.resolve("stash"),
        "    acl_file = " + dir.resolve("kadm5.acl"),
        "    kdc_listen = 127.0.0.1:" + port,
        "    kdc_tcp_listen = 127.0.0.1:" + port,
        "    max_life = 1h",
        "  }",
        "[logging]",
        "  kdc = FILE:" + dir.resolve("kdc.log"),
        "  admin_server = FILE:" + dir.resolve("kadmin.log"),
        "  default = FILE:" + dir.resolve("krb5.log"),
        ""));
  }

  private void kadmin(String kadmin, String query) throws IOException {
    run(List.of(kadmin, "-r", REALM, "-q", query));
  }

  private void run(List<String> command) throws IOException {
    Path out = Files.createTempFile(dir, "cmd", ".out");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      if (!p.waitFor(STEP_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(String.join(" ", command) + " did not finish within " + STEP_SECONDS + " s: " + Files.readString(out));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    String output = Files.readString(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0 || output.contains("error") || output.contains("rror:")) {
      fail(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + output);
    }
  }

  private void awaitListening() throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STEP_SECONDS);
    while (System.nanoTime() < deadline) {
      if (!kdc.isAlive()) {
        fail("krb5kdc exited at once: " + Files.readString(dir.resolve("krb5kdc.out")) + "\n"
            + (Files.exists(dir.resolve("kdc.log")) ? Files.readString(dir.resolve("kdc.log")) : ""));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException notYet) {
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }
    }
    fail("krb5kdc does not listen on 127.0.0.1:" + port + " after " + STEP_SECONDS + " s");
  }

  private void stop() {
    Process p = kdc;
    if (p == null) {
      return;
    }
    try (OutputStream in = p.getOutputStream()) {
      in.flush();
    } catch (IOException ignored) {
      // the shell is gone already
    }
    try {
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroy();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A port free for TCP and UDP on 127.0.0.1 (the KDC listens on both). */
  private static int freeTcpAndUdpPort() throws IOException {
    for (int attempt = 0; attempt < 20; attempt++) {
      int port = LoopbackTargets.freePort();
      try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
        return udp.getLocalPort();
      } catch (IOException taken) {
        // UDP side in use: another
      }
    }
    throw new IOException("no port free for both TCP and UDP on 127.0.0.1");
  }

  private static String program(String name, String debianPackage) {
    List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
    dirs.addAll(List.of("/usr/sbin", "/usr/bin", "/sbin"));
    for (String d : dirs) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
        return Path.of(d, name).toString();
      }
    }
    return fail(name + " is not installed: install the Debian package " + debianPackage
        + " (apt-get install -y --no-install-recommends krb5-kdc krb5-admin-server krb5-user)");
  }
}
