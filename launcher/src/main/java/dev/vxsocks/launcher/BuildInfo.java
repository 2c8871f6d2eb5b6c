package dev.vxsocks.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The project version and the git commit this launcher was built from, for {@code --version} and the status record.
 * Both come from {@link #RESOURCE}, written by the launcher's pom at build time (maven-antrun-plugin runs
 * {@code git rev-parse}); a build outside a git work tree, or without git, writes no commit, and a class path without
 * the resource (an IDE) has neither: each is then {@code unknown}.
 */
final class BuildInfo {

  static final String RESOURCE = "/dev/vxsocks/launcher/build.properties";
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{7,40}");
  private static final Properties PROPERTIES = load();

  private BuildInfo() {
  }

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException unreadable) {
      // unknown, as without the resource
    }
    return p;
  }

  /** The project version ({@code 0.1.0-SNAPSHOT}), or {@code unknown}. */
  static String version() {
    String v = PROPERTIES.getProperty("version", "").trim();
    return v.isEmpty() || v.contains("${") ? "unknown" : v;
  }

  /** The abbreviated commit id, or {@code unknown}. */
  static String commit() {
    String c = PROPERTIES.getProperty("commit", "").trim();
    return COMMIT.matcher(c).matches() ? c : "unknown";
  }

  /** {@code vxsocks 0.1.0-SNAPSHOT (commit 0123456789ab)}. */
  static String describe() {
    return "vxsocks " + version() + " (commit " + commit() + ")";
  }
}
