package dev.vxsocks.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code limits.new-sessions-per-second-per-user} and {@code -per-client-ip}: off by default, bounded, overridable. */
class SessionRateKeysTest {

  private static JsonObject limits(Object perUser, Object perIp) {
    return new JsonObject().put("limits", new JsonObject().put("new-sessions-per-second-per-user", perUser)
        .put("new-sessions-per-second-per-client-ip", perIp));
  }

  private static void failsOn(JsonObject config, String key) {
    assertThatThrownBy(() -> ProxyConfig.fromJson(config)).as("%s", config.encode())
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo(key));
  }

  @Test
  void offByDefault() {
    ProxyConfig.Limits l = ProxyConfig.defaults().limits();
    assertThat(l.newSessionsPerSecondPerUser()).isZero();
    assertThat(l.newSessionsPerSecondPerClientIp()).isZero();
    assertThat(l).isEqualTo(new ProxyConfig.Limits(0, 0, 4096, 0, 0));
  }

  @Test
  void readAndBounded() {
    ProxyConfig.Limits l = ProxyConfig.fromJson(limits(5, "20")).limits();
    assertThat(l.newSessionsPerSecondPerUser()).isEqualTo(5);
    assertThat(l.newSessionsPerSecondPerClientIp()).isEqualTo(20);
    assertThat(ProxyConfig.fromJson(limits(1_000_000, 0)).limits().newSessionsPerSecondPerUser()).isEqualTo(1_000_000);
    failsOn(limits(-1, 0), "limits.new-sessions-per-second-per-user");
    failsOn(limits(0, 1_000_001), "limits.new-sessions-per-second-per-client-ip");
    failsOn(limits(0, "fast"), "limits.new-sessions-per-second-per-client-ip");
  }

  @Test
  void sharedWithTheClusterLikeTheOtherLimits() {
    ProxyConfig node = ProxyConfig.defaults();
    ProxyConfig rolledOut = ProxyConfig.fromJson(limits(3, 4));
    assertThat(node.withShared(rolledOut).limits().newSessionsPerSecondPerUser()).isEqualTo(3);
    assertThat(node.withShared(rolledOut).limits().newSessionsPerSecondPerClientIp()).isEqualTo(4);
  }

  @Test
  void environmentOverrides() {
    JsonObject out = ConfigOverrides.apply(new JsonObject(), Map.of(
        "VXSOCKS_LIMITS_NEW_SESSIONS_PER_SECOND_PER_USER", "7",
        "VXSOCKS_LIMITS_NEW_SESSIONS_PER_SECOND_PER_CLIENT_IP", "9"), Map.of());
    ProxyConfig.Limits l = ProxyConfig.fromJson(out).limits();
    assertThat(l.newSessionsPerSecondPerUser()).isEqualTo(7);
    assertThat(l.newSessionsPerSecondPerClientIp()).isEqualTo(9);
  }
}
