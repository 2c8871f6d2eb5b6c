package dev.vxsocks.launcher;

import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.testing.TestProxy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/grafana/vxsocks.json is valid JSON, and every series it queries is one a node exports. */
class GrafanaDashboardTest {

  private static final Path DASHBOARD = Path.of("..", "docs", "grafana", "vxsocks.json");
  /** A series name in a PromQL expression: a word followed by a selector or a range. */
  private static final Pattern SERIES = Pattern.compile("\\b([a-z_][a-z0-9_]*)\\s*[{\\[]");

  @Test
  void everyQueriedSeriesIsExported() throws Exception {
    JsonObject dashboard = new JsonObject(Files.readString(DASHBOARD));
    Set<String> queried = new TreeSet<>();
    for (Object p : dashboard.getJsonArray("panels")) {
      JsonArray targets = ((JsonObject) p).getJsonArray("targets");
      for (Object t : targets) {
        Matcher m = SERIES.matcher(((JsonObject) t).getString("expr"));
        while (m.find()) {
          queried.add(m.group(1));
        }
      }
    }
    assertThat(queried).as("series the dashboard queries").hasSizeGreaterThan(10);

    NodeMetrics metrics = new NodeMetrics();
    metrics.configVersion("v");
    // The proxy's series exist from start-up; a node is not needed to see them.
    metrics.proxy();
    Set<String> exported = new TreeSet<>();
    for (String line : metrics.scrape().lines().toList()) {
      if (!line.startsWith("#") && !line.isBlank()) {
        exported.add(line.split("[{ ]", 2)[0]);
      }
    }
    assertThat(exported).as("exported series").containsAll(queried);
    assertThat(ProxyConfig.fromJson(TestProxy.baseConfig())).isNotNull();
  }
}
