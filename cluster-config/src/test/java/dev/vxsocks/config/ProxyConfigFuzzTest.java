package dev.vxsocks.config;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes the configuration reader (docs/security/fuzzing.md). Whatever document an operator writes, the node either
 * gets a configuration or a {@link ConfigException} that names the key at fault, in one line; never another exception,
 * which would stop start-up with a stack trace instead of the one-line error, or break a reload.
 * <ul>
 *   <li>{@code json}: any JSON object straight into {@link ProxyConfig#fromJson}; a document read twice gives equal
 *       configurations.</li>
 *   <li>{@code yaml}: any file the way {@code run --config} and a {@code --watch} reload read it:
 *       {@link ConfigLoader#loadJson} (vertx-config's YAML reader), {@link ConfigLoader#version} of what it read, then
 *       {@link ConfigLoader#validateWithOverrides} (the overrides, then {@code fromJson}); {@link ConfigLoader#load} is
 *       the first and the last of these.</li>
 * </ul>
 * The dictionary (config.dict) holds the keys and words the reader knows, so that the fuzzer gets past "unknown
 * setting" quickly.
 */
class ProxyConfigFuzzTest {

  private static Vertx vertx;
  private static Path dir;

  @BeforeAll
  static void start() throws IOException {
    vertx = Vertx.vertx();
    dir = Files.createTempDirectory("vxsocks-config-fuzz");
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.delete(f);
      }
    }
    Files.delete(dir);
  }

  @FuzzTest
  @DictionaryFile(resourcePath = "config.dict")
  void json(byte[] document) {
    JsonObject json;
    try {
      json = new JsonObject(new String(document, StandardCharsets.UTF_8));
    } catch (DecodeException | ClassCastException notAnObject) {
      return;
    }
    ProxyConfig config;
    try {
      config = ProxyConfig.fromJson(json.copy());
    } catch (ConfigException e) {
      namesTheKey(e);
      return;
    }
    assertThat(ProxyConfig.fromJson(json.copy())).isEqualTo(config);
  }

  @FuzzTest
  @DictionaryFile(resourcePath = "config.dict")
  void yaml(byte[] document) throws Exception {
    Path file = dir.resolve("vxsocks.yaml");
    Files.write(file, document);
    // As `run --config` and a --watch reload do: read, take the version of the document as written, validate a copy.
    JsonObject json;
    try {
      json = ConfigLoader.loadJson(vertx, file).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      namesTheKey(configException(e.getCause()));
      return;
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within 30 s", e);
    }
    assertThat(ConfigLoader.version(json)).matches("[0-9a-f]{12}");
    try {
      assertThat(ConfigLoader.validateWithOverrides(json.copy())).isNotNull();
    } catch (ConfigException e) {
      namesTheKey(e);
    }
  }

  private static ConfigException configException(Throwable t) {
    if (!(t instanceof ConfigException)) {
      throw new AssertionError("not a ConfigException", t);
    }
    return (ConfigException) t;
  }

  /** The key, then what is wrong, in one line: the launcher prints it as one line, a reload logs it as one record. */
  private static void namesTheKey(ConfigException e) {
    assertThat(e.key()).isNotBlank().doesNotEndWith(".");
    assertThat(e.getMessage()).startsWith(e.key() + ": ");
    assertThat(e.getMessage().length()).isGreaterThan(e.key().length() + 2);
    assertThat(e.getMessage().chars().filter(c -> Character.isISOControl(c) || c == 0x2028 || c == 0x2029).count())
        .as("control characters in %s", e.getMessage()).isZero();
  }
}
