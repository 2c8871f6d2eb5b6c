package dev.vxsocks.auth.cluster;

import dev.vxsocks.config.ProxyConfig.User;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How the users of a configuration file differ from the users of a running cluster, one {@link Change} per user
 * whose entry differs, by name. In a cluster the users map is the one source of truth (README, "Changing users and
 * configuration of a running cluster"): these differences are made only by {@code config apply --users}; a plain
 * {@code config apply} and a node starting with its file skip them and say so, one line each. Nothing here reads
 * or prints a password or a hash: a password difference is reported as a different hash.
 */
public final class UserChanges {

  private UserChanges() {
  }

  /**
   * One user whose entry differs: {@code file} null when the cluster has the user and the file does not, {@code
   * cluster} null when the file has the user and the cluster does not.
   */
  public record Change(String name, User file, User cluster) {

    /** The file has the user, the cluster does not: applying adds it. */
    public boolean added() {
      return cluster == null;
    }

    /** The cluster has the user, the file does not: never changed by a file (the {@code user remove} command is). */
    public boolean onlyInCluster() {
      return file == null;
    }

    public boolean newPassword() {
      return file != null && cluster != null && !file.password().encoded().equals(cluster.password().encoded());
    }

    public boolean enabledChanges() {
      return file != null && cluster != null && file.enabled() != cluster.enabled();
    }

    /** How the file differs from the cluster, e.g. {@code enabled in the file, disabled in the cluster}. */
    public String difference() {
      if (onlyInCluster()) {
        return "in the cluster, not in the file";
      }
      if (added()) {
        return "in the file" + (file.enabled() ? "" : " (disabled)") + ", not in the cluster";
      }
      List<String> parts = new ArrayList<>();
      if (enabledChanges()) {
        parts.add(state(file) + " in the file, " + state(cluster) + " in the cluster");
      }
      if (newPassword()) {
        parts.add("another password hash in the file");
      }
      return String.join("; ", parts);
    }

    /** What applying it does, e.g. {@code enabled (was disabled)}, {@code added}, {@code new password, disabled}. */
    public String effect() {
      if (onlyInCluster()) {
        return "kept";
      }
      if (added()) {
        return file.enabled() ? "added" : "added (disabled)";
      }
      List<String> parts = new ArrayList<>();
      if (newPassword()) {
        parts.add("new password");
      }
      if (enabledChanges()) {
        parts.add(state(file) + " (was " + state(cluster) + ")");
      }
      return String.join(", ", parts);
    }

    private static String state(User u) {
      return u.enabled() ? "enabled" : "disabled";
    }
  }

  /**
   * The users whose entries differ between {@code file} (a configuration's {@code users}) and {@code cluster} (name →
   * user), sorted by name; users equal in both are left out.
   */
  public static List<Change> between(List<User> file, Map<String, User> cluster) {
    TreeMap<String, Change> out = new TreeMap<>();
    for (User f : file) {
      User c = cluster.get(f.name());
      Change change = new Change(f.name(), f, c);
      if (c == null || change.newPassword() || change.enabledChanges()) {
        out.put(f.name(), change);
      }
    }
    for (Map.Entry<String, User> e : cluster.entrySet()) {
      if (file.stream().noneMatch(f -> f.name().equals(e.getKey()))) {
        out.put(e.getKey(), new Change(e.getKey(), null, e.getValue()));
      }
    }
    return List.copyOf(out.values());
  }
}
