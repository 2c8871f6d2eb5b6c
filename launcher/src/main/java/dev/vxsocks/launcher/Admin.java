package dev.vxsocks.launcher;

import com.hazelcast.cluster.Member;
import com.hazelcast.client.HazelcastClient;
import com.hazelcast.core.HazelcastInstance;
import dev.vxsocks.auth.cluster.SharedConfig;
import dev.vxsocks.auth.cluster.UserAdmin;
import dev.vxsocks.auth.cluster.UserChanges;
import dev.vxsocks.config.ConfigException;
import dev.vxsocks.config.ConfigLoader;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import dev.vxsocks.launcher.Main.UsageException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code user} and {@code config} commands: they change a running cluster by connecting to it for a moment as a
 * Hazelcast client (not a member: the nodes see no membership change), using the cluster section of the given
 * configuration ({@code cluster.members} must list at least one running node), doing one map operation, and leaving.
 * Every node sees the change through its entry listeners.
 */
final class Admin {

  /** How long {@code config apply} waits for every node to report the new version (the bound). */
  static final Duration ROLLOUT_WAIT = Duration.ofSeconds(5);
  static final List<String> USER_ACTIONS = List.of("add", "passwd", "disable", "enable", "remove", "list");
  /** Held so the level set on it is not lost to garbage collection. */
  private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");

  private Admin() {
  }

  /**
   * {@code user ACTION [NAME]}: {@code action} one of {@link #USER_ACTIONS}; {@code name} null for {@code list};
   * {@code hash} only with add and passwd (else the password is read: {@link Main#readPassword}).
   */
  static int user(String action, String name, String hash, Path config, PrintStream out, PrintStream err) {
    if (!action.equals("list")) {
      if (name == null) {
        throw new UsageException("user " + action + " needs a user name");
      }
      if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > 255) {
        throw new UsageException("a user name is 1 to 255 bytes (RFC 1929)");
      }
    }
    PasswordHash password = null;
    try {
      if (action.equals("add") || action.equals("passwd")) {
        if (hash != null) {
          password = PasswordHash.parse("--hash", hash);
        } else {
          char[] pw = Main.readPassword(err);
          if (pw == null) {
            return 1;
          }
          password = PasswordHash.create(pw, PasswordHash.DEFAULT_ITERATIONS);
          Arrays.fill(pw, '\0');
        }
      }
      ProxyConfig cfg = load(config);
      String who = name;
      PasswordHash pw = password;
      return withCluster(cfg.cluster(), err, hz -> {
        UserAdmin admin = new UserAdmin(hz);
        boolean done;
        switch (action) {
          case "add": done = admin.add(who, pw); break;
          case "passwd": done = admin.passwd(who, pw); break;
          case "disable": done = admin.setEnabled(who, false); break;
          case "enable": done = admin.setEnabled(who, true); break;
          case "remove": done = admin.remove(who); break;
          default:
            for (ProxyConfig.User u : admin.list()) {
              out.println(u.name() + (u.enabled() ? "" : " (disabled)"));
            }
            return 0;
        }
        if (!done) {
          err.println("vxsocks: " + (action.equals("add") ? "user " + who + " already exists" : "no user " + who));
          return 1;
        }
        out.println("ok: user " + action + " " + who);
        return 0;
      });
    } catch (ConfigException e) {
      err.println("vxsocks: config error: " + e.getMessage());
      return 2;
    }
  }

  /** {@code config status}: the version rolled out, and the one each member runs. */
  static int configStatus(Path config, PrintStream out, PrintStream err) {
    try {
      return withCluster(load(config).cluster(), err, hz -> {
        SharedConfig.Versioned current = new SharedConfig(hz).current();
        out.println("rolled out: " + (current == null ? "nothing (nodes run their files)" : current.version()));
        new SharedConfig(hz).running().forEach((member, version) -> out.println(member + " " + version));
        return 0;
      });
    } catch (ConfigException e) {
      err.println("vxsocks: config error: " + e.getMessage());
      return 2;
    }
  }

  /** {@code config apply [--users] FILE}: validates FILE, rolls it out, waits for every member to run it. */
  static int configApply(Path file, boolean withUsers, PrintStream out, PrintStream err) {
    try {
      JsonObject document;
      ProxyConfig cfg;
      Vertx vertx = Vertx.vertx();
      try {
        // The document rolled out is the file as written; this process's overrides only pick the cluster to join.
        document = ConfigLoader.loadJson(vertx, file).await(30, TimeUnit.SECONDS);
        ProxyConfig.fromJson(document.copy());
        cfg = ConfigLoader.load(vertx, file).await(30, TimeUnit.SECONDS);
      } finally {
        vertx.close();
      }
      ProxyConfig applied = ProxyConfig.fromJson(document.copy());
      return withCluster(cfg.cluster(), err, hz -> {
        SharedConfig shared = new SharedConfig(hz);
        int lost = applyUsers(new UserAdmin(hz), applied.users(), withUsers, out);
        String version = shared.publish(document);
        out.println("published version " + version);
        long deadline = System.nanoTime() + ROLLOUT_WAIT.toNanos();
        Map<String, String> running = shared.running();
        while (!running.values().stream().allMatch(version::equals) && System.nanoTime() - deadline < 0) {
          sleep(100);
          running = shared.running();
        }
        running.forEach((member, v) -> out.println(member + " " + v));
        if (!running.values().stream().allMatch(version::equals)) {
          err.println("vxsocks: not every node reported version " + version + " within " + ROLLOUT_WAIT.toSeconds() + " s");
          return 1;
        }
        if (lost > 0) {
          err.println("vxsocks: " + lost + " user changes not made (changed in the cluster meanwhile):"
              + " run config apply --users again");
          return 1;
        }
        return 0;
      });
    } catch (ConfigException e) {
      err.println("vxsocks: config error: " + e.getMessage());
      return 2;
    } catch (Exception e) {
      err.println("vxsocks: " + Main.rootCause(e));
      return 1;
    }
  }

  /**
   * The user part of {@code config apply}: one line per user whose entry differs between the file and the cluster.
   * The cluster's users are the one source of truth, so without {@code --users} nothing is written and each
   * difference is printed as skipped; with it the file's entry replaces the cluster's (added, enabled, disabled, new
   * password). A user only in the cluster is kept either way. Never prints a password or a hash. Returns the number
   * of changes asked for with {@code --users} but not made because the entry changed meanwhile.
   */
  static int applyUsers(UserAdmin admin, List<ProxyConfig.User> file, boolean withUsers, PrintStream out) {
    int made = 0;
    int skipped = 0;
    int lost = 0;
    for (UserChanges.Change c : UserChanges.between(file, admin.users())) {
      String user = "user " + c.name() + ": ";
      if (c.onlyInCluster()) {
        out.println(user + "kept: " + c.difference() + " (user remove " + c.name() + " removes it)");
      } else if (!withUsers) {
        skipped++;
        out.println(user + "skipped: " + c.difference());
      } else if (admin.apply(c)) {
        made++;
        out.println(user + c.effect());
      } else {
        lost++;
        out.println(user + "not changed: its entry changed in the cluster meanwhile");
      }
    }
    if (skipped > 0) {
      out.println("users: none changed; " + skipped + " differences skipped (the cluster's users stand; config apply"
          + " --users FILE makes the file's)");
    } else if (withUsers) {
      out.println("users: " + made + " changed" + (lost > 0 ? ", " + lost + " not changed" : ""));
    } else {
      out.println("users: none changed; every user of the file is in the cluster as the file has it");
    }
    return lost;
  }

  /** The configuration at {@code config} (null: the default), with overrides; any failure a ConfigException. */
  static ProxyConfig load(Path config) {
    Vertx vertx = Vertx.vertx();
    try {
      return ConfigLoader.load(vertx, config).await(30, TimeUnit.SECONDS);
    } catch (ConfigException e) {
      throw e;
    } catch (Exception e) {
      throw new ConfigException("config", String.valueOf(Main.rootCause(e).getMessage()));
    } finally {
      vertx.close();
    }
  }

  /** How long the command line tries to reach a member before giving up. */
  static final long CONNECT_TIMEOUT_MS = 10_000;

  /** Connects to the cluster as a client, runs {@code action}, disconnects. */
  static int withCluster(ProxyConfig.Cluster c, PrintStream err, Function<HazelcastInstance, Integer> action) {
    if (!c.enabled()) {
      err.println("vxsocks: the configuration has no enabled cluster section (cluster.enabled: true): no cluster to change");
      return 2;
    }
    HAZELCAST_LOG.setLevel(Level.SEVERE);
    HazelcastInstance hz;
    try {
      hz = HazelcastClient.newHazelcastClient(HazelcastSetup.clientConfig(c, CONNECT_TIMEOUT_MS));
    } catch (RuntimeException unreachable) {
      err.println("vxsocks: no running vxsocks node reachable at " + String.join(", ", c.members()) + ": "
          + Main.rootCause(unreachable).getMessage());
      return 1;
    }
    try {
      if (hz.getCluster().getMembers().stream().allMatch(Member::isLiteMember)) {
        err.println("vxsocks: no running vxsocks node found at " + String.join(", ", c.members()));
        return 1;
      }
      return action.apply(hz);
    } finally {
      hz.shutdown();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }
}
