package dev.vxsocks.config;

import dev.vxsocks.config.ProxyConfig.RequestRule;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
class ProxyConfigTest {

  private static final String HASH = PasswordHashTest.CORRECT_HORSE;

  private static JsonObject json(String text) {
    return new JsonObject(text);
  }

  /** fromJson must fail with a ConfigException whose key is {@code key}, and whose message starts with it. */
  private static void failsOn(JsonObject config, String key) {
    assertThatThrownBy(() -> ProxyConfig.fromJson(config))
        .as("%s", config.encode())
        .isInstanceOfSatisfying(ConfigException.class, e -> {
          assertThat(e.key()).isEqualTo(key);
          assertThat(e.getMessage()).startsWith(key + ": ");
        });
  }

  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void defaults() {
    ProxyConfig c = ProxyConfig.defaults();
    assertThat(c.listen()).isEqualTo(new ProxyConfig.Listen("127.0.0.1", 1080, List.of(), Duration.ofSeconds(3)));
    assertThat(c.admin()).isEqualTo(new ProxyConfig.Admin("127.0.0.1", 9180));
    assertThat(c.drain()).isEqualTo(new ProxyConfig.Drain(Duration.ofSeconds(5), Duration.ofSeconds(30)));
    assertThat(c.auth().methods()).containsExactly(AuthMethodName.NONE);
    assertThat(c.auth().allowNoAuthOffLoopback()).isFalse();
    assertThat(c.users()).isEmpty();
    assertThat(c.rules().client()).isEmpty();
    assertThat(c.rules().request()).isEmpty();
    assertThat(c.timeouts()).isEqualTo(new ProxyConfig.Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(10),
        Duration.ofMinutes(5), Duration.ofSeconds(60), Duration.ofSeconds(5)));
    assertThat(c.limits()).isEqualTo(new ProxyConfig.Limits(0, 0, 4096, 0, 0));
    assertThat(ProxyConfig.fromJson(new JsonObject())).isEqualTo(c);
  }

  @Test
  void nonLoopbackHostDefaultsToPassword() {
    ProxyConfig c = ProxyConfig.fromJson(json("{\"listen\":{\"host\":\"0.0.0.0\"}}"));
    assertThat(c.auth().methods()).containsExactly(AuthMethodName.USERNAME_PASSWORD);
    ProxyConfig v6 = ProxyConfig.fromJson(json("{\"listen\":{\"host\":\"::\"}}"));
    assertThat(v6.auth().methods()).containsExactly(AuthMethodName.USERNAME_PASSWORD);
    ProxyConfig lo = ProxyConfig.fromJson(json("{\"listen\":{\"host\":\"::1\"}}"));
    assertThat(lo.auth().methods()).containsExactly(AuthMethodName.NONE);
    ProxyConfig name = ProxyConfig.fromJson(json("{\"listen\":{\"host\":\"localhost\"}}"));
    assertThat(name.auth().methods()).containsExactly(AuthMethodName.NONE);
  }

  @Test
  void shippedDefaultFileParses(Vertx vertx, VertxTestContext ctx) {
    ConfigLoader.loadJson(vertx, null).onComplete(ctx.succeeding(json -> ctx.verify(() -> {
      ProxyConfig c = ProxyConfig.fromJson(json);
      assertThat(c.listen()).isEqualTo(new ProxyConfig.Listen("127.0.0.1", 1080, List.of(), Duration.ofSeconds(3)));
    assertThat(c.admin()).isEqualTo(new ProxyConfig.Admin("127.0.0.1", 9180));
    assertThat(c.drain()).isEqualTo(new ProxyConfig.Drain(Duration.ofSeconds(5), Duration.ofSeconds(30)));
      assertThat(c.auth().methods()).containsExactly(AuthMethodName.NONE);
      assertThat(c.users()).isEmpty();
      assertThat(c.rules().client()).hasSize(1);
      assertThat(c.rules().client().get(0).allow()).isTrue();
      assertThat(c.rules().client().get(0).from()).extracting(Cidr::toString).containsExactly("127.0.0.0/8", "::1/128");
      assertThat(c.rules().client().get(0).where()).isEqualTo("rules.client[0]");
      assertThat(c.rules().request()).hasSize(2);
      RequestRule loopback = c.rules().request().get(0);
      assertThat(loopback.allow()).isTrue();
      assertThat(loopback.toAddresses()).extracting(Cidr::toString).containsExactly("127.0.0.0/8", "::1/128");
      assertThat(loopback.toHosts()).extracting(HostPattern::toString).containsExactly("localhost");
      RequestRule any = c.rules().request().get(1);
      assertThat(any.toAddresses()).extracting(Cidr::toString).containsExactly("0.0.0.0/0", "::/0");
      assertThat(any.toHosts()).extracting(HostPattern::toString).containsExactly("*");
      assertThat(any.where()).isEqualTo("rules.request[1]");
      assertThat(c.timeouts()).isEqualTo(ProxyConfig.defaults().timeouts());
      assertThat(c.limits()).isEqualTo(ProxyConfig.defaults().limits());
      assertThat(c.auth()).isEqualTo(ProxyConfig.defaults().auth());
      ctx.completeNow();
    })));
  }

  @Test
  void missingFileNamesConfig(Vertx vertx, VertxTestContext ctx) {
    ConfigLoader.loadJson(vertx, java.nio.file.Path.of("/nonexistent/vxsocks-test.yaml"))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err).isInstanceOf(ConfigException.class);
          assertThat(((ConfigException) err).key()).isEqualTo("config");
          ctx.completeNow();
        })));
  }

  @Test
  void fullConfiguration() {
    JsonObject j = new JsonObject()
        .put("listen", new JsonObject().put("host", "0.0.0.0").put("port", "1081"))
        .put("auth", new JsonObject().put("methods", new JsonArray().add("username-password").add("none").add("none"))
            .put("allow-no-auth-off-loopback", true))
        .put("users", new JsonArray()
            .add(new JsonObject().put("name", "alice").put("password", HASH))
            .add(new JsonObject().put("name", "bob").put("password", HASH).put("enabled", false)))
        .put("rules", new JsonObject()
            .put("client", new JsonArray().add(new JsonObject().put("action", "deny").put("from", "10.0.0.0/8, 192.168.0.0/16")))
            .put("request", new JsonArray().add(new JsonObject()
                .put("action", "allow")
                .put("users", new JsonArray().add("alice"))
                .put("commands", new JsonArray().add("CONNECT").add("udp-associate"))
                .put("from", new JsonArray().add("::1"))
                .put("to", new JsonArray().add("10.1.0.0/16").add(".example.com").add("localhost").add("::1"))
                .put("ports", new JsonArray().add("443").add(8000).add("1024-2048")))))
        .put("timeouts", new JsonObject().put("handshake", "500ms").put("connect", "2s").put("idle", "1h")
            .put("half-close", "1d").put("auth", "1m"))
        .put("limits", new JsonObject().put("sessions-per-user", 3).put("sessions-per-client-ip", "7")
            .put("pending-handshakes", 1));
    ProxyConfig c = ProxyConfig.fromJson(j);
    assertThat(c.listen()).isEqualTo(new ProxyConfig.Listen("0.0.0.0", 1081, List.of(), Duration.ofSeconds(3)));
    assertThat(c.auth().methods()).containsExactly(AuthMethodName.USERNAME_PASSWORD, AuthMethodName.NONE);
    assertThat(c.auth().allowNoAuthOffLoopback()).isTrue();
    assertThat(c.users()).extracting(ProxyConfig.User::name).containsExactly("alice", "bob");
    assertThat(c.users()).extracting(ProxyConfig.User::enabled).containsExactly(true, false);
    assertThat(c.users().get(0).password().verify("correct horse".toCharArray())).isTrue();
    assertThat(c.users().get(0).toString()).doesNotContain("yRTM");
    assertThat(c.rules().client().get(0).allow()).isFalse();
    assertThat(c.rules().client().get(0).from()).extracting(Cidr::toString).containsExactly("10.0.0.0/8", "192.168.0.0/16");
    RequestRule r = c.rules().request().get(0);
    assertThat(r.users()).isEqualTo(Set.of("alice"));
    assertThat(r.commands()).isEqualTo(Set.of(CommandName.CONNECT, CommandName.UDP_ASSOCIATE));
    assertThat(r.from()).extracting(Cidr::toString).containsExactly("::1");
    assertThat(r.toAddresses()).extracting(Cidr::toString).containsExactly("10.1.0.0/16", "::1");
    assertThat(r.toHosts()).extracting(HostPattern::toString).containsExactly(".example.com", "localhost");
    assertThat(r.ports()).extracting(PortRange::toString).containsExactly("443", "8000", "1024-2048");
    assertThat(c.timeouts()).isEqualTo(new ProxyConfig.Timeouts(Duration.ofMillis(500), Duration.ofSeconds(2),
        Duration.ofHours(1), Duration.ofDays(1), Duration.ofMinutes(1)));
    assertThat(c.limits()).isEqualTo(new ProxyConfig.Limits(3, 7, 1, 0, 0));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Every validation error names its key.

  @Test
  void unknownKeys() {
    failsOn(json("{\"lisen\":{}}"), "lisen");
    failsOn(json("{\"listen\":{\"hots\":\"127.0.0.1\"}}"), "listen.hots");
    failsOn(json("{\"limits\":{\"sessions-per-usr\":1}}"), "limits.sessions-per-usr");
    failsOn(json("{\"timeouts\":{\"read\":\"1s\"}}"), "timeouts.read");
    failsOn(json("{\"auth\":{\"method\":[\"none\"]}}"), "auth.method");
    failsOn(json("{\"users\":[{\"name\":\"a\",\"password\":\"" + HASH + "\",\"admin\":true}]}"),
        "users[0].admin");
    failsOn(json("{\"rules\":{\"clients\":[]}}"), "rules.clients");
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"allow\",\"port\":\"80\"}]}}"), "rules.request[0].port");
    failsOn(json("{\"rules\":{\"client\":[{\"action\":\"allow\",\"to\":\"1.2.3.4\"}]}}"), "rules.client[0].to");
  }

  @Test
  void badPort() {
    failsOn(json("{\"listen\":{\"port\":70000}}"), "listen.port");
    failsOn(json("{\"listen\":{\"port\":65536}}"), "listen.port");
    failsOn(json("{\"listen\":{\"port\":-1}}"), "listen.port");
    failsOn(json("{\"listen\":{\"port\":\"http\"}}"), "listen.port");
    failsOn(json("{\"listen\":{\"port\":1080.5}}"), "listen.port");
    failsOn(json("{\"listen\":{\"port\":\"\"}}"), "listen.port");
    failsOn(json("{\"listen\":{\"port\":[1080]}}"), "listen.port");
    failsOn(json("{\"listen\":{\"port\":true}}"), "listen.port");
    failsOn(json("{\"listen\":{\"port\":\"99999999999999999999\"}}"), "listen.port");
    assertThat(ProxyConfig.fromJson(json("{\"listen\":{\"port\":0}}")).listen().port()).isZero();
    assertThat(ProxyConfig.fromJson(json("{\"listen\":{\"port\":65535}}")).listen().port()).isEqualTo(65535);
    assertThat(ProxyConfig.fromJson(json("{\"listen\":{\"port\":\" 1081 \"}}")).listen().port()).isEqualTo(1081);
  }

  /**
   * BUG: Section.integer takes any Number that is not a Double/Float and calls longValue(), which for a BigInteger
   * keeps only the low 64 bits. A port of 2^64 + 1080 (SnakeYAML reads integers that do not fit a long as BigInteger)
   * is accepted as 1080 instead of being refused.
   */
  @Test
  void hugeIntegerPortIsRefused() {
    BigInteger huge = BigInteger.ONE.shiftLeft(64).add(BigInteger.valueOf(1080));
    refusesPort(new JsonObject().put("listen", new JsonObject().put("port", huge)));
  }

  private static void refusesPort(JsonObject config) {
    int port;
    try {
      port = ProxyConfig.fromJson(config).listen().port();
    } catch (ConfigException e) {
      assertThat(e.key()).isEqualTo("listen.port");
      return;
    }
    org.assertj.core.api.Assertions.fail("2^64 + 1080 was accepted as listen.port " + port);
  }

  /** The same bug through the real loader: a YAML integer beyond a long. */
  @Test
  void hugeIntegerPortInYamlIsRefused(Vertx vertx, VertxTestContext ctx) throws Exception {
    java.nio.file.Path file = java.nio.file.Path.of(getClass().getResource("/huge-port.yaml").toURI());
    ConfigLoader.loadJson(vertx, file).onComplete(ctx.succeeding(j -> ctx.verify(() -> {
      refusesPort(j);
      ctx.completeNow();
    })));
  }

  @Test
  void badLimits() {
    failsOn(json("{\"limits\":{\"sessions-per-user\":-1}}"), "limits.sessions-per-user");
    failsOn(json("{\"limits\":{\"sessions-per-client-ip\":\"many\"}}"), "limits.sessions-per-client-ip");
    failsOn(json("{\"limits\":{\"pending-handshakes\":0}}"), "limits.pending-handshakes");
    failsOn(json("{\"limits\":{\"pending-handshakes\":10000001}}"), "limits.pending-handshakes");
    failsOn(json("{\"limits\":5}"), "limits");
  }

  @Test
  void nodeGuardsDefaultToAutoAndTakeNumbers() {
    ProxyConfig.Limits d = ProxyConfig.defaults().limits();
    assertThat(List.of(d.sessionsTotal(), d.pendingHandshakesPerSource(), d.sessionsPerSource()))
        .containsOnly(ProxyConfig.Limits.AUTO);
    assertThat(List.of(d.sourcePrefixIpv4(), d.sourcePrefixIpv6())).containsExactly(32, 64);
    ProxyConfig.Limits set = ProxyConfig.fromJson(json("{\"limits\":{\"sessions-total\":1000,"
        + "\"pending-handshakes-per-source\":\"0\",\"sessions-per-source\":\"auto\",\"source-prefix-ipv4\":24,"
        + "\"source-prefix-ipv6\":48}}")).limits();
    assertThat(set).isEqualTo(new ProxyConfig.Limits(0, 0, 4096, 0, 0, 0, 0, 1000, 0, ProxyConfig.Limits.AUTO, 24, 48));
  }

  @Test
  void badNodeGuards() {
    failsOn(json("{\"limits\":{\"sessions-total\":-1}}"), "limits.sessions-total");
    failsOn(json("{\"limits\":{\"sessions-total\":\"lots\"}}"), "limits.sessions-total");
    failsOn(json("{\"limits\":{\"sessions-total\":10000001}}"), "limits.sessions-total");
    failsOn(json("{\"limits\":{\"pending-handshakes-per-source\":1.5}}"), "limits.pending-handshakes-per-source");
    failsOn(json("{\"limits\":{\"sessions-per-source\":true}}"), "limits.sessions-per-source");
    failsOn(json("{\"limits\":{\"source-prefix-ipv4\":33}}"), "limits.source-prefix-ipv4");
    failsOn(json("{\"limits\":{\"source-prefix-ipv4\":7}}"), "limits.source-prefix-ipv4");
    failsOn(json("{\"limits\":{\"source-prefix-ipv6\":129}}"), "limits.source-prefix-ipv6");
    failsOn(json("{\"limits\":{\"source-prefix-ipv6\":\"auto\"}}"), "limits.source-prefix-ipv6");
  }

  @Test
  void badDuration() {
    failsOn(json("{\"timeouts\":{\"idle\":\"5\"}}"), "timeouts.idle");
    failsOn(json("{\"timeouts\":{\"idle\":5}}"), "timeouts.idle");
    failsOn(json("{\"timeouts\":{\"idle\":\"5 minutes\"}}"), "timeouts.idle");
    failsOn(json("{\"timeouts\":{\"idle\":\"5M\"}}"), "timeouts.idle");
    failsOn(json("{\"timeouts\":{\"idle\":\"-5s\"}}"), "timeouts.idle");
    failsOn(json("{\"timeouts\":{\"idle\":\"1.5s\"}}"), "timeouts.idle");
    failsOn(json("{\"timeouts\":{\"idle\":\"\"}}"), "timeouts.idle");
    failsOn(json("{\"timeouts\":{\"handshake\":\"0s\"}}"), "timeouts.handshake");
    failsOn(json("{\"timeouts\":{\"handshake\":\"99ms\"}}"), "timeouts.handshake");
    failsOn(json("{\"timeouts\":{\"handshake\":\"11m\"}}"), "timeouts.handshake");
    failsOn(json("{\"timeouts\":{\"connect\":\"1h\"}}"), "timeouts.connect");
    failsOn(json("{\"timeouts\":{\"idle\":\"999ms\"}}"), "timeouts.idle");
    failsOn(json("{\"timeouts\":{\"idle\":\"8d\"}}"), "timeouts.idle");
    failsOn(json("{\"timeouts\":{\"half-close\":\"2d\"}}"), "timeouts.half-close");
    failsOn(json("{\"timeouts\":{\"auth\":\"61s\"}}"), "timeouts.auth");
    assertThat(ProxyConfig.fromJson(json("{\"timeouts\":{\"handshake\":\"100ms\"}}")).timeouts().handshake())
        .isEqualTo(Duration.ofMillis(100));
    assertThat(ProxyConfig.fromJson(json("{\"timeouts\":{\"idle\":\" 7d \"}}")).timeouts().idle())
        .isEqualTo(Duration.ofDays(7));
    assertThat(ProxyConfig.fromJson(json("{\"timeouts\":{\"idle\":\"10 m\"}}")).timeouts().idle())
        .isEqualTo(Duration.ofMinutes(10));
  }

  /**
   * BUG: Section.duration parses the number with Long.parseLong and builds the Duration without a range guard, so a
   * count that does not fit a long escapes as NumberFormatException, and one whose Duration overflows escapes as
   * ArithmeticException; neither is a ConfigException naming the key.
   */
  @Test
  void durationCountTooLongForALong() {
    failsOn(json("{\"timeouts\":{\"connect\":\"99999999999999999999s\"}}"), "timeouts.connect");
  }

  /** See {@link #durationCountTooLongForALong}: here the count fits a long but the Duration overflows. */
  @Test
  void durationOverflowingDuration() {
    failsOn(json("{\"timeouts\":{\"idle\":\"999999999999999999d\"}}"), "timeouts.idle");
  }

  @Test
  void badCidr() {
    failsOn(json("{\"rules\":{\"client\":[{\"action\":\"allow\",\"from\":[\"10.0.0.0/33\"]}]}}"), "rules.client[0].from");
    failsOn(json("{\"rules\":{\"client\":[{\"action\":\"allow\",\"from\":[\"127.0.0.1\"]},"
        + "{\"action\":\"deny\",\"from\":\"300.1.1.1\"}]}}"), "rules.client[1].from");
    failsOn(json("{\"rules\":{\"client\":[{\"action\":\"allow\",\"from\":[\"localhost\"]}]}}"), "rules.client[0].from");
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"allow\",\"from\":\"::/200\"}]}}"), "rules.request[0].from");
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"allow\",\"to\":\"10.0.0.0/40\"}]}}"), "rules.request[0].to");
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"allow\",\"to\":[\"not a host!\"]}]}}"), "rules.request[0].to");
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"allow\",\"to\":[\"10.0.0.300/8\"]}]}}"), "rules.request[0].to");
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"allow\",\"to\":[\"ok.com\", {\"x\":1}]}]}}"), "rules.request[0].to[1]");
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"allow\",\"ports\":\"70000\"}]}}"), "rules.request[0].ports");
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"allow\",\"commands\":\"connect,ftp\"}]}}"), "rules.request[0].commands");
  }

  @Test
  void badAction() {
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"permit\"}]}}"), "rules.request[0].action");
    failsOn(json("{\"rules\":{\"request\":[{\"action\":\"allow\"},{\"action\":\"Deny\"}]}}"), "rules.request[1].action");
    failsOn(json("{\"rules\":{\"client\":[{\"from\":\"127.0.0.1\"}]}}"), "rules.client[0].action");
    failsOn(json("{\"rules\":{\"client\":[{\"action\":[\"allow\"]}]}}"), "rules.client[0].action");
    failsOn(json("{\"rules\":{\"client\":{\"action\":\"allow\"}}}"), "rules.client");
    failsOn(json("{\"rules\":{\"request\":[\"allow\"]}}"), "rules.request[0]");
  }

  @Test
  void users() {
    String u = "{\"name\":\"%s\",\"password\":\"%s\"}";
    failsOn(json("{\"users\":[" + String.format(u, "alice", HASH) + "," + String.format(u, "alice", HASH) + "]}"), "users[1].name");
    failsOn(json("{\"users\":[" + String.format(u, "alice", HASH) + "," + String.format(u, "bob", HASH) + ","
        + String.format(u, "bob", HASH) + "]}"), "users[2].name");
    failsOn(json("{\"users\":[" + String.format(u, "alice", "correct horse") + "]}"), "users[0].password");
    failsOn(json("{\"users\":[{\"name\":\"alice\"}]}"), "users[0].password");
    failsOn(json("{\"users\":[{\"password\":\"" + HASH + "\"}]}"), "users[0].name");
    failsOn(json("{\"users\":[" + String.format(u, "x".repeat(256), HASH) + "]}"), "users[0].name");
    // 128 two-byte characters are 256 bytes.
    failsOn(json("{\"users\":[" + String.format(u, "\u00fc".repeat(128), HASH) + "]}"), "users[0].name");
    failsOn(json("{\"users\":[" + String.format(u, "alice", HASH).replace("}", ",\"enabled\":\"yes\"}") + "]}"),
        "users[0].enabled");
    failsOn(json("{\"users\":{\"alice\":\"x\"}}"), "users");
    failsOn(json("{\"users\":[\"alice\"]}"), "users[0]");
    assertThat(ProxyConfig.fromJson(json("{\"users\":[" + String.format(u, "x".repeat(255), HASH) + "]}")).users())
        .hasSize(1);
  }

  @Test
  void plaintextPasswordIsNotEchoed() {
    assertThatThrownBy(() -> ProxyConfig.fromJson(json("{\"users\":[{\"name\":\"alice\",\"password\":\"hunter2\"}]}")))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }

  @Test
  void noAuthOffLoopback() {
    failsOn(json("{\"listen\":{\"host\":\"0.0.0.0\"},\"auth\":{\"methods\":[\"none\"]}}"), "auth.methods");
    failsOn(json("{\"listen\":{\"host\":\"0.0.0.0\"},\"auth\":{\"methods\":\"username-password,none\"}}"), "auth.methods");
    failsOn(json("{\"listen\":{\"host\":\"::\"},\"auth\":{\"methods\":[\"none\"]}}"), "auth.methods");
    failsOn(json("{\"listen\":{\"host\":\"192.168.1.10\"},\"auth\":{\"methods\":[\"none\"],"
        + "\"allow-no-auth-off-loopback\":false}}"), "auth.methods");
    ProxyConfig open = ProxyConfig.fromJson(json("{\"listen\":{\"host\":\"0.0.0.0\"},"
        + "\"auth\":{\"methods\":[\"none\"],\"allow-no-auth-off-loopback\":true}}"));
    assertThat(open.auth().methods()).containsExactly(AuthMethodName.NONE);
    assertThat(open.auth().allowNoAuthOffLoopback()).isTrue();
    assertThat(ProxyConfig.fromJson(json("{\"listen\":{\"host\":\"127.0.0.2\"},\"auth\":{\"methods\":[\"none\"]}}"))
        .auth().methods()).containsExactly(AuthMethodName.NONE);
    assertThat(ProxyConfig.fromJson(json("{\"listen\":{\"host\":\"0.0.0.0\"},\"auth\":{\"methods\":[\"username-password\"]}}"))
        .auth().methods()).containsExactly(AuthMethodName.USERNAME_PASSWORD);
  }

  @Test
  void badAuthAndListen() {
    failsOn(json("{\"auth\":{\"methods\":[\"chap\"]}}"), "auth.methods");
    failsOn(json("{\"auth\":{\"methods\":[\"NONE\"]}}"), "auth.methods");
    failsOn(json("{\"auth\":{\"methods\":[\"none\", null]}}"), "auth.methods[1]");
    failsOn(json("{\"auth\":{\"allow-no-auth-off-loopback\":\"yes\"}}"), "auth.allow-no-auth-off-loopback");
    failsOn(json("{\"listen\":{\"host\":\"example.com\"}}"), "listen.host");
    failsOn(json("{\"listen\":{\"host\":\"\"}}"), "listen.host");
    failsOn(json("{\"listen\":{\"host\":\"256.0.0.1\"}}"), "listen.host");
    failsOn(json("{\"listen\":\"127.0.0.1:1080\"}"), "listen");
  }

  @Test
  void listsAcceptOneValueOrCommaSeparated() {
    ProxyConfig c = ProxyConfig.fromJson(json("{\"rules\":{\"request\":[{\"action\":\"allow\",\"to\":\"a.com, 10.0.0.0/8 ,\","
        + "\"ports\":443}]}}"));
    RequestRule r = c.rules().request().get(0);
    assertThat(r.toHosts()).extracting(HostPattern::toString).containsExactly("a.com");
    assertThat(r.toAddresses()).extracting(Cidr::toString).containsExactly("10.0.0.0/8");
    assertThat(r.ports()).extracting(PortRange::toString).containsExactly("443");
    assertThat(r.commands()).isEmpty();
    assertThat(r.users()).isEmpty();
    assertThat(r.from()).isEmpty();
    assertThat(List.copyOf(c.rules().request())).hasSize(1);
  }

  @Test
  void proxyProtocolTrustsOnlyTheListedBalancers() throws Exception {
    ProxyConfig c = ProxyConfig.fromJson(json("{\"listen\":{\"proxy-protocol-from\":[\"127.0.0.9/32\",\"10.1.0.0/16\",\"fd00::/8\"],"
        + "\"proxy-protocol-timeout\":\"500ms\"}}"));
    assertThat(c.listen().proxyProtocolTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.listen().trustsProxyHeaderFrom(java.net.InetAddress.getByName("127.0.0.9"))).isTrue();
    assertThat(c.listen().trustsProxyHeaderFrom(java.net.InetAddress.getByName("10.1.200.3"))).isTrue();
    assertThat(c.listen().trustsProxyHeaderFrom(java.net.InetAddress.getByName("fd12::1"))).isTrue();
    assertThat(c.listen().trustsProxyHeaderFrom(java.net.InetAddress.getByName("127.0.0.2"))).isFalse();
    assertThat(ProxyConfig.defaults().listen().trustsProxyHeaderFrom(java.net.InetAddress.getByName("127.0.0.9"))).isFalse();
    failsOn(json("{\"listen\":{\"proxy-protocol-from\":[\"balancer.example.com\"]}}"), "listen.proxy-protocol-from");
    failsOn(json("{\"listen\":{\"proxy-protocol-timeout\":\"3\"}}"), "listen.proxy-protocol-timeout");
    failsOn(json("{\"listen\":{\"proxy-protocol-timeout\":\"2m\"}}"), "listen.proxy-protocol-timeout");
  }

  @Test
  void adminAndDrain() {
    ProxyConfig c = ProxyConfig.fromJson(json("{\"admin\":{\"host\":\"0.0.0.0\",\"port\":0},"
        + "\"drain\":{\"grace\":\"0s\",\"timeout\":\"2m\"}}"));
    assertThat(c.admin()).isEqualTo(new ProxyConfig.Admin("0.0.0.0", 0));
    assertThat(c.drain()).isEqualTo(new ProxyConfig.Drain(Duration.ZERO, Duration.ofMinutes(2)));
    failsOn(json("{\"admin\":{\"host\":\"admin.local\"}}"), "admin.host");
    failsOn(json("{\"admin\":{\"port\":70000}}"), "admin.port");
    failsOn(json("{\"admin\":{\"path\":\"/\"}}"), "admin.path");
    failsOn(json("{\"drain\":{\"grace\":\"11m\"}}"), "drain.grace");
    failsOn(json("{\"drain\":{\"timeout\":\"soon\"}}"), "drain.timeout");
  }

  @Test
  void verificationPoolAndLoginThrottle() {
    ProxyConfig.Auth d = ProxyConfig.defaults().auth();
    assertThat(d.verifyThreads()).isZero();
    assertThat(d.verifyThreadsHere()).isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
    assertThat(d.verifyQueue()).isEqualTo(32);
    assertThat(d.throttle()).isEqualTo(new ProxyConfig.Throttle(50, 10, Duration.ofMinutes(10), Duration.ofSeconds(1),
        Duration.ofMinutes(15), 5));
    assertThat(d.throttle().counts()).isTrue();

    ProxyConfig c = ProxyConfig.fromJson(json("{\"auth\":{\"verify-threads\":3,\"verify-queue\":0,\"throttle\":{"
        + "\"failures-per-client-ip\":0,\"failures-per-user-and-client-ip\":\"0\",\"window\":\"1h\","
        + "\"backoff\":\"500ms\",\"backoff-max\":\"500ms\",\"hashes-per-user\":0}}}"));
    assertThat(c.auth().verifyThreadsHere()).isEqualTo(3);
    assertThat(c.auth().verifyQueue()).isZero();
    assertThat(c.auth().throttle()).isEqualTo(new ProxyConfig.Throttle(0, 0, Duration.ofHours(1), Duration.ofMillis(500),
        Duration.ofMillis(500), 0));
    assertThat(c.auth().throttle().counts()).isFalse();

    failsOn(json("{\"auth\":{\"verify-threads\":-1}}"), "auth.verify-threads");
    failsOn(json("{\"auth\":{\"verify-queue\":100001}}"), "auth.verify-queue");
    failsOn(json("{\"auth\":{\"throttle\":\"on\"}}"), "auth.throttle");
    failsOn(json("{\"auth\":{\"throttle\":{\"failures\":3}}}"), "auth.throttle.failures");
    failsOn(json("{\"auth\":{\"throttle\":{\"failures-per-client-ip\":-1}}}"), "auth.throttle.failures-per-client-ip");
    failsOn(json("{\"auth\":{\"throttle\":{\"failures-per-user-and-client-ip\":\"x\"}}}"),
        "auth.throttle.failures-per-user-and-client-ip");
    failsOn(json("{\"auth\":{\"throttle\":{\"window\":\"500ms\"}}}"), "auth.throttle.window");
    failsOn(json("{\"auth\":{\"throttle\":{\"backoff\":\"2h\"}}}"), "auth.throttle.backoff");
    failsOn(json("{\"auth\":{\"throttle\":{\"backoff\":\"1m\",\"backoff-max\":\"30s\"}}}"),
        "auth.throttle.backoff-max");
    failsOn(json("{\"auth\":{\"throttle\":{\"hashes-per-user\":100001}}}"), "auth.throttle.hashes-per-user");
    // Rolled out with the rest of auth: a cluster's config apply changes them on every node.
    assertThat(ProxyConfig.defaults().withShared(c).auth()).isEqualTo(c.auth());
  }

  /** Every copy keeps every section: the 8-argument constructor that dropped the cluster settings is gone. */
  @Test
  void copiesKeepEverySection() {
    ProxyConfig c = ProxyConfig.fromJson(json("{\"cluster\":{\"enabled\":true,\"name\":\"prod\"},"
        + "\"listen\":{\"proxy-protocol-from\":[\"127.0.0.9\"]},\"admin\":{\"port\":9999},\"drain\":{\"grace\":\"1s\"}}"));
    ProxyConfig moved = c.withListenPort(1234);
    assertThat(moved.listen().port()).isEqualTo(1234);
    assertThat(moved).isEqualTo(new ProxyConfig(new ProxyConfig.Listen(c.listen().host(), 1234,
        c.listen().proxyProtocolFrom(), c.listen().proxyProtocolTimeout()), c.auth(), c.users(), c.rules(),
        c.timeouts(), c.limits(), c.bind(), c.udp(), c.cluster(), c.admin(), c.drain(), c.log()));
    ProxyConfig shared = c.withShared(ProxyConfig.defaults());
    assertThat(shared.cluster()).isEqualTo(c.cluster());
    assertThat(shared.listen()).isEqualTo(c.listen());
    assertThat(shared.admin()).isEqualTo(c.admin());
    assertThat(shared.drain()).isEqualTo(c.drain());
  }
}
