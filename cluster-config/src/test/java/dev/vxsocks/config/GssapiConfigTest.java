package dev.vxsocks.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code auth.methods: [gssapi]} and the {@code auth.gssapi} keys: defaults, refusals, overrides. */
class GssapiConfigTest {

  private static JsonObject json(String text) {
    return new JsonObject(text);
  }

  private static void failsOn(JsonObject config, String key, String fragment) {
    assertThatThrownBy(() -> ProxyConfig.fromJson(config))
        .as("%s", config.encode())
        .isInstanceOfSatisfying(ConfigException.class, e -> {
          assertThat(e.key()).isEqualTo(key);
          assertThat(e.getMessage()).contains(fragment);
        });
  }

  @Test
  void gssapiIsMethodOneWithItsDefaults() {
    ProxyConfig c = ProxyConfig.fromJson(json("{\"auth\":{\"methods\":[\"gssapi\",\"username-password\"],"
        + "\"gssapi\":{\"keytab\":\"/etc/vxsocks/proxy.keytab\",\"principal\":\"rcmd/proxy.example.com@EXAMPLE.COM\"}}}"));
    assertThat(c.auth().methods()).containsExactly(AuthMethodName.GSSAPI, AuthMethodName.USERNAME_PASSWORD);
    assertThat(AuthMethodName.GSSAPI.code()).isEqualTo(1);
    ProxyConfig.Gssapi g = c.auth().gssapi();
    assertThat(g.keytab()).isEqualTo("/etc/vxsocks/proxy.keytab");
    assertThat(g.principal()).isEqualTo("rcmd/proxy.example.com@EXAMPLE.COM");
    assertThat(g.protection()).containsExactly(GssapiProtection.NONE, GssapiProtection.INTEGRITY,
        GssapiProtection.CONFIDENTIALITY);
    assertThat(g.realms()).as("the principal's realm").containsExactly("EXAMPLE.COM");
    assertThat(g.keepOtherPrincipals()).isFalse();
  }

  @Test
  void everyKey() {
    ProxyConfig c = ProxyConfig.fromJson(json("{\"auth\":{\"methods\":[\"gssapi\"],\"gssapi\":{\"keytab\":\"k\","
        + "\"protection\":[\"confidentiality\",\"integrity\"],\"realms\":[\"A.EXAMPLE\",\"B.EXAMPLE\"],"
        + "\"other-principals\":\"keep\"}}}"));
    ProxyConfig.Gssapi g = c.auth().gssapi();
    assertThat(g.principal()).as("any key in the keytab").isNull();
    assertThat(g.protection()).containsExactly(GssapiProtection.CONFIDENTIALITY, GssapiProtection.INTEGRITY);
    assertThat(g.realms()).isEqualTo(Set.of("A.EXAMPLE", "B.EXAMPLE"));
    assertThat(g.keepOtherPrincipals()).isTrue();
  }

  @Test
  void withoutGssapiTheSectionIsNotRead() {
    ProxyConfig c = ProxyConfig.fromJson(json("{\"auth\":{\"methods\":[\"none\"],\"gssapi\":{\"keytab\":\"k\"}}}"));
    assertThat(c.auth().gssapi()).isNull();
  }

  @Test
  void refusals() {
    failsOn(json("{\"auth\":{\"methods\":[\"gssapi\"]}}"), "auth.gssapi.keytab", "is required");
    failsOn(json("{\"auth\":{\"methods\":[\"gssapi\"],\"gssapi\":{\"keytab\":\"k\"}}}"), "auth.gssapi.realms",
        "names no realm");
    failsOn(json("{\"auth\":{\"methods\":[\"gssapi\"],\"gssapi\":{\"keytab\":\"k\",\"realms\":[\"R\"],"
        + "\"protection\":[\"privacy\"]}}}"), "auth.gssapi.protection", "unknown level 'privacy'");
    failsOn(json("{\"auth\":{\"methods\":[\"gssapi\"],\"gssapi\":{\"keytab\":\"k\",\"realms\":[\"R\"],"
        + "\"other-principals\":\"map\"}}}"), "auth.gssapi.other-principals", "refuse or keep");
    failsOn(json("{\"auth\":{\"methods\":[\"gssapi\"],\"gssapi\":{\"keytab\":\"k\",\"realms\":[\"R\"],"
        + "\"rcache\":\"none\"}}}"), "auth.gssapi.rcache", "unknown setting");
  }

  @Test
  void overridesNameTheKeys() {
    JsonObject file = json("{\"auth\":{\"methods\":[\"gssapi\"],\"gssapi\":{\"keytab\":\"k\",\"realms\":[\"R\"]}}}");
    ConfigOverrides.apply(file, Map.of("VXSOCKS_AUTH_GSSAPI_KEYTAB", "/node/proxy.keytab",
        "VXSOCKS_AUTH_GSSAPI_PROTECTION", "integrity,confidentiality"), Map.of("vxsocks.auth.gssapi.realms", "A,B"));
    ProxyConfig.Gssapi g = ProxyConfig.fromJson(file).auth().gssapi();
    assertThat(g.keytab()).isEqualTo("/node/proxy.keytab");
    assertThat(g.protection()).isEqualTo(List.of(GssapiProtection.INTEGRITY, GssapiProtection.CONFIDENTIALITY));
    assertThat(g.realms()).isEqualTo(Set.of("A", "B"));
  }
}
