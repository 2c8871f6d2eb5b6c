package dev.vxsocks.launcher;

import com.hazelcast.cluster.Member;
import com.hazelcast.map.IMap;
import dev.vxsocks.config.ConfigException;
import dev.vxsocks.config.IpLiterals;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code status [--json]}: for every member of the cluster the configuration names, the status record it publishes
 * ({@link StatusReport}), read as a Hazelcast client like the {@code user} and {@code config} commands (admin ports
 * listen on 127.0.0.1 by default, so another host's are out of reach; the cluster is not). A member without a
 * record (it stopped publishing a few seconds ago and the cluster has not noticed yet) shows as "no report".
 * Without a cluster section, the single node's own record from {@code GET /status} on its admin port.
 */
@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = {"For every member of the cluster: its member address, SOCKS listening address, configuration "
        + "version, sessions open, uptime and readiness, as a table or --json. Reads the records the nodes publish "
        + "in the cluster (as a Hazelcast client to cluster.members); a configuration without a cluster section "
        + "asks the single node on its admin port (admin.host:admin.port).",
        "Exit code 0 once the cluster or node answered (whatever it reports), 1 when it cannot be reached, 2 for a "
            + "bad configuration."})
final class StatusCommand implements Callable<Integer> {

  /** How long the single-node request may take, connect included. */
  static final Duration HTTP_TIMEOUT = Duration.ofSeconds(5);
  /** How long the records may take to come from the cluster's store. */
  static final Duration STORE_TIMEOUT = Duration.ofSeconds(5);
  private static final String[] COLUMNS = {"MEMBER", "LISTEN", "CONFIG", "SESSIONS", "UPTIME", "READY"};

  @Option(names = "--config", paramLabel = "FILE", description = Main.CONFIG_HELP)
  String config;

  @Option(names = "--json", description = "One JSON object: {\"cluster\": NAME or null, \"members\": [record, ...]}")
  boolean json;

  private final Main.Io io;

  StatusCommand(Main.Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    ProxyConfig cfg;
    try {
      cfg = Admin.load(Main.configPath(config));
    } catch (ConfigException e) {
      io.err().println("vxsocks: config error: " + e.getMessage());
      return 2;
    }
    if (cfg.cluster().enabled()) {
      return Admin.withCluster(cfg.cluster(), io.err(), hz -> {
        IMap<String, String> records = hz.getMap(HazelcastSetup.STATUS_MAP);
        List<Member> members = hz.getCluster().getMembers().stream().filter(m -> !m.isLiteMember()).toList();
        // One read per member, all at once, each bounded: a hung member must cost its own row (and those whose
        // records its partitions hold), not the whole command.
        List<CompletableFuture<String>> reads = members.stream()
            .map(m -> records.getAsync(m.getUuid().toString()).toCompletableFuture()).toList();
        long deadline = System.nanoTime() + STORE_TIMEOUT.toNanos();
        JsonArray rows = new JsonArray();
        for (int i = 0; i < members.size(); i++) {
          Member m = members.get(i);
          String member = IpLiterals.hostPort(m.getAddress().getHost(), m.getAddress().getPort());
          String record = null;
          String missing = "no report";
          try {
            record = reads.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          } catch (TimeoutException e) {
            missing = "no report (the cluster's store did not answer within " + STORE_TIMEOUT.toSeconds() + " s)";
          } catch (ExecutionException e) {
            missing = "no report (" + Main.rootCause(e).getMessage() + ")";
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
          }
          JsonObject row = new JsonObject().put("member", member).put("reported", record != null);
          if (record == null) {
            row.put("reason", missing);
          } else {
            // The member address as the cluster knows it, whatever the record says.
            row.mergeIn(parse(record)).put("member", member);
          }
          rows.add(row);
        }
        print(cfg.cluster().name(), rows);
        return 0;
      });
    }
    return single(cfg.admin());
  }

  /** The single node's record through its admin port. */
  private int single(ProxyConfig.Admin admin) {
    if (admin.port() == 0) {
      io.err().println("vxsocks: no cluster section and the admin port is off (admin.port: 0): no way to ask the node");
      return 1;
    }
    String host = loopbackFor(admin.host());
    String where = IpLiterals.hostPort(host, admin.port());
    HttpClient client = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + where + AdminServer.STATUS))
        .timeout(HTTP_TIMEOUT).GET().build();
    HttpResponse<String> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      io.err().println("vxsocks: no vxsocks node answering on its admin port " + where + ": " + describe(e));
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      io.err().println("vxsocks: interrupted");
      return 1;
    }
    JsonObject record;
    try {
      record = response.statusCode() == 200 ? new JsonObject(response.body()) : null;
    } catch (DecodeException e) {
      record = null;
    }
    if (record == null) {
      io.err().println("vxsocks: " + where + " answered " + response.statusCode() + " to GET " + AdminServer.STATUS
          + ", not a vxsocks status record");
      return 1;
    }
    print(null, new JsonArray().add(new JsonObject().put("member", null).put("reported", true).mergeIn(record)));
    return 0;
  }

  /** A wildcard admin.host is reached on the loopback address of its family. */
  static String loopbackFor(String host) {
    return switch (host) {
      case "0.0.0.0" -> "127.0.0.1";
      case "::", "[::]", "0:0:0:0:0:0:0:0" -> "::1";
      default -> host;
    };
  }

  private static String describe(IOException e) {
    // The JDK's client wraps a refused connect in a ConnectException whose cause is a ClosedChannelException.
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.net.ConnectException) {
        return "connection refused";
      }
      if (t instanceof java.net.http.HttpTimeoutException) {
        return "no answer within " + HTTP_TIMEOUT.toSeconds() + " s";
      }
    }
    Throwable c = Main.rootCause(e);
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }

  private static JsonObject parse(String record) {
    try {
      return new JsonObject(record);
    } catch (DecodeException e) {
      return new JsonObject().put("reason", "unreadable record");
    }
  }

  private void print(String cluster, JsonArray rows) {
    PrintStream out = io.out();
    if (json) {
      out.println(new JsonObject().put("cluster", cluster).put("members", rows).encode());
      return;
    }
    List<String[]> table = new ArrayList<>();
    table.add(COLUMNS);
    for (int i = 0; i < rows.size(); i++) {
      JsonObject r = rows.getJsonObject(i);
      boolean reported = r.getBoolean("reported", false);
      table.add(new String[] {
          text(r.getString("member")),
          reported ? text(r.getString("listen")) : "-",
          reported ? text(r.getString("config_version")) : "-",
          reported && r.getValue("sessions_open") != null ? String.valueOf(r.getValue("sessions_open")) : "-",
          reported && r.getLong("uptime_s") != null ? uptime(r.getLong("uptime_s")) : "-",
          !reported ? r.getString("reason", "no report") : r.getBoolean("ready", false) ? "ready"
              : "not ready: " + r.getString("reason", "unknown")});
    }
    int[] widths = new int[COLUMNS.length];
    for (String[] row : table) {
      for (int c = 0; c < row.length; c++) {
        widths[c] = Math.max(widths[c], row[c].length());
      }
    }
    for (String[] row : table) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < row.length; c++) {
        line.append(c == row.length - 1 ? row[c] : String.format(Locale.ROOT, "%-" + widths[c] + "s  ", row[c]));
      }
      out.println(line);
    }
    if (cluster != null) {
      out.println("cluster " + cluster + ": " + rows.size() + (rows.size() == 1 ? " member" : " members"));
    }
  }

  private static String text(String s) {
    return s == null ? "-" : s;
  }

  /** {@code 42s}, {@code 3m 05s}, {@code 2h 07m}, {@code 5d 03h}. */
  static String uptime(long seconds) {
    if (seconds < 60) {
      return seconds + "s";
    }
    if (seconds < 3600) {
      return String.format(Locale.ROOT, "%dm %02ds", seconds / 60, seconds % 60);
    }
    if (seconds < 86_400) {
      return String.format(Locale.ROOT, "%dh %02dm", seconds / 3600, seconds % 3600 / 60);
    }
    return String.format(Locale.ROOT, "%dd %02dh", seconds / 86_400, seconds % 86_400 / 3600);
  }
}
