package dev.vxsocks.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One object of the configuration tree, read with its dotted path so that every error names the key. Unknown keys
 * are refused: a typo in a limit must not silently leave the proxy unlimited.
 */
final class Section {

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  private final String path;
  private final JsonObject json;

  Section(String path, JsonObject json, String... allowedKeys) {
    this.path = path;
    this.json = json == null ? new JsonObject() : json;
    Set<String> allowed = Set.of(allowedKeys);
    for (String key : this.json.fieldNames()) {
      if (!allowed.contains(key)) {
        throw new ConfigException(key(written(key)), "unknown setting (known here: " + String.join(", ", allowedKeys) + ")");
      }
    }
  }

  /**
   * A key from the document as an error names it: as written, or in double quotes with escapes when it would not read
   * as one key (empty, blank at either end, a dot, a quote, a backslash or a control character): {@code ""},
   * {@code "port "}, {@code "listen.port"} at the top level.
   */
  static String written(String name) {
    boolean plain = !name.isEmpty() && name.strip().equals(name)
        && name.chars().noneMatch(c -> c == '.' || c == '"' || c == '\\' || ConfigException.breaksLine(c));
    if (plain) {
      return name;
    }
    StringBuilder out = new StringBuilder("\"");
    for (char c : name.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (ConfigException.breaksLine(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  String key(String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  boolean has(String name) {
    return json.getValue(name) != null;
  }

  JsonObject object(String name) {
    Object v = json.getValue(name);
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof JsonObject)) {
      throw new ConfigException(key(name), "must be a mapping, got " + describe(v));
    }
    return (JsonObject) v;
  }

  String string(String name, String def) {
    Object v = json.getValue(name);
    if (v == null) {
      return def;
    }
    if (v instanceof String || v instanceof Number || v instanceof Boolean) {
      String s = v.toString().trim();
      if (s.isEmpty()) {
        throw new ConfigException(key(name), "must not be empty");
      }
      return s;
    }
    throw new ConfigException(key(name), "must be a single value, got " + describe(v));
  }

  int integer(String name, int def, int min, int max) {
    Object v = json.getValue(name);
    if (v == null) {
      return def;
    }
    long n;
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      n = ((Number) v).longValue();
    } else if (v instanceof java.math.BigInteger) {
      throw new ConfigException(key(name), "must be between " + min + " and " + max + ", got " + v);
    } else if (v instanceof String && ((String) v).trim().matches("-?\\d{1,18}")) {
      n = Long.parseLong(((String) v).trim());
    } else {
      throw new ConfigException(key(name), "must be a whole number, got " + describe(v));
    }
    if (n < min || n > max) {
      throw new ConfigException(key(name), "must be between " + min + " and " + max + ", got " + n);
    }
    return (int) n;
  }

  boolean bool(String name, boolean def) {
    Object v = json.getValue(name);
    if (v == null) {
      return def;
    }
    if (v instanceof Boolean) {
      return (Boolean) v;
    }
    if ("true".equals(v) || "false".equals(v)) {
      return Boolean.parseBoolean((String) v);
    }
    throw new ConfigException(key(name), "must be true or false, got " + describe(v));
  }

  /** A duration written with its unit: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 1d}. */
  Duration duration(String name, Duration def, Duration min, Duration max) {
    Object v = json.getValue(name);
    if (v == null) {
      return def;
    }
    Matcher m = DURATION.matcher(v.toString().trim());
    if (!(v instanceof String) || !m.matches()) {
      throw new ConfigException(key(name), "must be a duration with a unit (ms, s, m, h, d) such as 10s, got " + describe(v));
    }
    Duration d;
    try {
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "ms": d = Duration.ofMillis(n); break;
        case "s": d = Duration.ofSeconds(n); break;
        case "m": d = Duration.ofMinutes(n); break;
        case "h": d = Duration.ofHours(n); break;
        default: d = Duration.ofDays(n); break;
      }
    } catch (NumberFormatException | ArithmeticException tooLarge) {
      d = null;
    }
    if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw new ConfigException(key(name), "must be between " + Durations.format(min) + " and " + Durations.format(max) + ", got " + v);
    }
    return d;
  }

  /** A list of plain values; a single value is taken as a list of one, a comma-separated string is split. */
  List<String> strings(String name) {
    Object v = json.getValue(name);
    List<String> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    if (v instanceof JsonArray) {
      JsonArray a = (JsonArray) v;
      for (int i = 0; i < a.size(); i++) {
        Object e = a.getValue(i);
        if (e == null || e instanceof JsonObject || e instanceof JsonArray || e.toString().isBlank()) {
          throw new ConfigException(key(name) + "[" + i + "]", "must be a non-empty single value, got " + describe(e));
        }
        out.add(e.toString().trim());
      }
      return out;
    }
    if (v instanceof String || v instanceof Number) {
      Arrays.stream(v.toString().split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(out::add);
      return out;
    }
    throw new ConfigException(key(name), "must be a list, got " + describe(v));
  }

  /** A list of mappings, each returned as a section whose path carries its index. */
  List<JsonObject> objects(String name) {
    Object v = json.getValue(name);
    List<JsonObject> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    if (!(v instanceof JsonArray)) {
      throw new ConfigException(key(name), "must be a list, got " + describe(v));
    }
    JsonArray a = (JsonArray) v;
    for (int i = 0; i < a.size(); i++) {
      Object e = a.getValue(i);
      if (!(e instanceof JsonObject)) {
        throw new ConfigException(key(name) + "[" + i + "]", "must be a mapping, got " + describe(e));
      }
      out.add((JsonObject) e);
    }
    return out;
  }

  static String describe(Object v) {
    if (v == null) {
      return "nothing";
    }
    if (v instanceof JsonObject) {
      return "a mapping";
    }
    if (v instanceof JsonArray) {
      return "a list";
    }
    return "'" + v + "'";
  }
}
