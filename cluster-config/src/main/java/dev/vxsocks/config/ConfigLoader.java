package dev.vxsocks.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Loads a node's configuration with vertx-config: the YAML file (or the shipped default), then environment variables
 * and system properties on top ({@link ConfigOverrides}), then validation ({@link ProxyConfig#fromJson}).
 */
public final class ConfigLoader {

  /** The configuration a node runs with when it is given no file: see {@code vxsocks-default.yaml}. */
  public static final String DEFAULT_RESOURCE = "vxsocks-default.yaml";

  private ConfigLoader() {
  }

  /** Where the configuration comes from: a file path, or the shipped default. */
  public static String describe(Path file) {
    return file == null ? "built-in " + DEFAULT_RESOURCE : file.toString();
  }

  /** Reads and validates; the future fails with a {@link ConfigException} naming the key that is wrong. */
  public static Future<ProxyConfig> load(Vertx vertx, Path file) {
    return loadJson(vertx, file).map(ConfigLoader::validateWithOverrides);
  }

  /**
   * Applies this process's overrides to {@code json} (in place) and validates the result; an error in a value that
   * came from the environment or a property says so.
   */
  public static ProxyConfig validateWithOverrides(JsonObject json) {
    Map<String, String> sources = new HashMap<>();
    JsonObject merged = applyOverrides(json, sources);
    try {
      return ProxyConfig.fromJson(merged);
    } catch (ConfigException e) {
      String source = sources.get(e.key());
      if (source == null) {
        throw e;
      }
      // The value came from the environment or a property, not the file: say so.
      throw new ConfigException(e.key() + " (set by " + source + ")", e.getMessage().substring(e.key().length() + 2));
    }
  }

  /** Applies this process's {@code VXSOCKS_*} variables and {@code vxsocks.*} properties to {@code json}, in place. */
  public static JsonObject applyOverrides(JsonObject json) {
    return applyOverrides(json, new HashMap<>());
  }

  private static JsonObject applyOverrides(JsonObject json, Map<String, String> sources) {
    Map<String, String> props = new HashMap<>();
    System.getProperties().forEach((k, v) -> props.put(k.toString(), v.toString()));
    return ConfigOverrides.apply(json, System.getenv(), props, sources);
  }

  /**
   * The version of a configuration document: the first 12 hex digits of the SHA-256 of its JSON encoding. Nodes
   * take it from the file as written (before overrides), so nodes sharing one file report one version.
   */
  public static String version(JsonObject json) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256")
          .digest(json.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d).substring(0, 12);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The file's content as JSON, before overrides and validation. */
  public static Future<JsonObject> loadJson(Vertx vertx, Path file) {
    if (file != null && !Files.isRegularFile(file)) {
      return Future.failedFuture(new ConfigException("config", "file " + file + " does not exist or is not a file"));
    }
    ConfigStoreOptions store = new ConfigStoreOptions()
        .setType("file")
        .setFormat("yaml")
        .setConfig(new JsonObject().put("path", file == null ? DEFAULT_RESOURCE : file.toString()));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions()
        .setIncludeDefaultStores(false)
        .setScanPeriod(0)
        .addStore(store));
    return retriever.getConfig()
        .recover(err -> Future.failedFuture(new ConfigException("config",
            "cannot read " + describe(file) + ": " + rootMessage(err))))
        .map(json -> jsonOnly(describe(file), json))
        .andThen(ar -> retriever.close());
  }

  /**
   * YAML says more than JSON, and vertx-config converts only the mappings outside lists: a mapping in a list keeps a
   * null key ({@code - ~: 1}), a list keeps a date ({@code - 2001-12-14}). Such a document has no JSON encoding (no
   * {@link #version}) and cannot be copied, so it is refused here, as one that does not parse is. Public for the other
   * reader of files, the {@code --watch} scan, which must refuse the same documents the same way.
   *
   * @param source what to name in the error (a file, "the default configuration")
   */
  public static JsonObject jsonOnly(String source, JsonObject json) {
    try {
      json.encode();
      json.copy();
    } catch (RuntimeException e) {
      throw new ConfigException("config", "cannot read " + source + ": it holds what JSON cannot (a null key"
          + " such as ~, or a date, binary or set inside a list): " + rootMessage(e));
    }
    return json;
  }

  private static String rootMessage(Throwable err) {
    Throwable t = err;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    return m.replaceAll("\\s+", " ").trim();
  }
}
