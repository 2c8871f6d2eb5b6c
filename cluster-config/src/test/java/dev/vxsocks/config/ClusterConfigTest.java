package dev.vxsocks.config;

import com.hazelcast.config.Config;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.spi.merge.DiscardMergePolicy;
import dev.vxsocks.config.ProxyConfig.Cluster;
import dev.vxsocks.config.ProxyConfig.Join;
import dev.vxsocks.config.cluster.HazelcastSetup;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterConfigTest {

  private static Cluster cluster(String json) {
    return ProxyConfig.fromJson(new JsonObject().put("cluster", new JsonObject(json))).cluster();
  }

  private static void failsOn(String json, String key) {
    assertThatThrownBy(() -> cluster(json)).isInstanceOfSatisfying(ConfigException.class,
        e -> assertThat(e.key()).isEqualTo(key));
  }

  @Test
  void noSectionMeansSingleNode() {
    assertThat(ProxyConfig.defaults().cluster().enabled()).isFalse();
    assertThat(ProxyConfig.defaults().cluster()).isEqualTo(Cluster.DISABLED);
  }

  @Test
  void readsEveryKey() {
    Cluster c = cluster("{\"enabled\":true,\"name\":\"c1\",\"join\":\"tcp\",\"members\":[\"127.0.0.1:5701\",\"127.0.0.1:5702\"],"
        + "\"host\":\"127.0.0.1\",\"port\":5702,\"eventbus-host\":\"127.0.0.1\",\"eventbus-port\":6000,\"join-wait\":\"0s\","
        + "\"store-unreachable\":\"allow\",\"store-timeout\":\"500ms\"}");
    assertThat(c.enabled()).isTrue();
    assertThat(c.name()).isEqualTo("c1");
    assertThat(c.join()).isEqualTo(Join.TCP);
    assertThat(c.members()).containsExactly("127.0.0.1:5701", "127.0.0.1:5702");
    assertThat(c.port()).isEqualTo(5702);
    assertThat(c.eventbusPort()).isEqualTo(6000);
    assertThat(c.joinWait()).isEqualTo(Duration.ZERO);
    assertThat(c.refuseWhenUnreachable()).isFalse();
    assertThat(c.storeTimeout()).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void defaultsToRefuseAndOwnAddressAsMember() {
    Cluster c = cluster("{\"enabled\":true,\"port\":5801}");
    assertThat(c.refuseWhenUnreachable()).isTrue();
    assertThat(c.members()).containsExactly("127.0.0.1:5801");
  }

  @Test
  void refusesBadValues() {
    failsOn("{\"join\":\"dns\"}", "cluster.join");
    failsOn("{\"members\":[\"127.0.0.1:99999\"]}", "cluster.members");
    failsOn("{\"members\":[\"a b:1\"]}", "cluster.members");
    failsOn("{\"host\":\"example.com\"}", "cluster.host");
    failsOn("{\"store-unreachable\":\"maybe\"}", "cluster.store-unreachable");
    failsOn("{\"port\":0}", "cluster.port");
    failsOn("{\"colour\":\"red\"}", "cluster.colour");
  }

  @Test
  void overridesReachClusterKeys() {
    JsonObject json = ConfigOverrides.apply(new JsonObject(), Map.of("VXSOCKS_CLUSTER_PORT", "5703"),
        Map.of("vxsocks.cluster.members", "127.0.0.1:5701, 127.0.0.1:5702", "vxsocks.cluster.enabled", "true"));
    Cluster c = ProxyConfig.fromJson(json).cluster();
    assertThat(c.enabled()).isTrue();
    assertThat(c.port()).isEqualTo(5703);
    assertThat(c.members()).containsExactly("127.0.0.1:5701", "127.0.0.1:5702");
  }

  @Test
  void verificationMemoNeedsASecretFileAndANonZeroLifetime() {
    Cluster none = cluster("{\"enabled\":true}");
    assertThat(none.memoSecretFile()).isNull();
    assertThat(none.memoTtl()).isEqualTo(Duration.ofHours(1));
    assertThat(none.memoEnabled()).isFalse();
    Cluster on = cluster("{\"enabled\":true,\"memo-secret-file\":\"/etc/vxsocks/memo.secret\",\"memo-ttl\":\"30m\"}");
    assertThat(on.memoSecretFile()).isEqualTo("/etc/vxsocks/memo.secret");
    assertThat(on.memoTtl()).isEqualTo(Duration.ofMinutes(30));
    assertThat(on.memoEnabled()).isTrue();
    assertThat(cluster("{\"memo-secret-file\":\"m\",\"memo-ttl\":\"0s\"}").memoEnabled()).isFalse();
    failsOn("{\"memo-secret-file\":\" \"}", "cluster.memo-secret-file");
    failsOn("{\"memo-ttl\":\"5s\"}", "cluster.memo-ttl");
    failsOn("{\"memo-ttl\":\"8d\"}", "cluster.memo-ttl");
    JsonObject json = ConfigOverrides.apply(new JsonObject(), Map.of("VXSOCKS_CLUSTER_MEMO_SECRET_FILE", "/run/memo"),
        Map.of("vxsocks.cluster.memo-ttl", "2h"));
    assertThat(ProxyConfig.fromJson(json).cluster().memoSecretFile()).isEqualTo("/run/memo");
    assertThat(ProxyConfig.fromJson(json).cluster().memoTtl()).isEqualTo(Duration.ofHours(2));
  }

  @Test
  void aRolledOutConfigNeverChangesListenOrCluster() {
    ProxyConfig node = ProxyConfig.fromJson(new JsonObject("{\"listen\":{\"port\":1081},"
        + "\"cluster\":{\"enabled\":true,\"port\":5702},\"limits\":{\"sessions-per-user\":1}}"));
    ProxyConfig shared = ProxyConfig.fromJson(new JsonObject("{\"listen\":{\"port\":9999},"
        + "\"cluster\":{\"enabled\":false},\"limits\":{\"sessions-per-user\":7}}"));
    ProxyConfig merged = node.withShared(shared);
    assertThat(merged.listen().port()).isEqualTo(1081);
    assertThat(merged.cluster()).isEqualTo(node.cluster());
    assertThat(merged.limits().sessionsPerUser()).isEqualTo(7);
  }

  @Test
  void hazelcastConfigKeepsWhatVertxNeeds() {
    Cluster c = cluster("{\"enabled\":true,\"members\":[\"127.0.0.1:5701\"],\"join-wait\":\"0s\"}");
    Config cfg = HazelcastSetup.hazelcastConfig(c, false);
    assertThat(cfg.getMultiMapConfigs()).containsKey("__vertx.subs");
    assertThat(cfg.getMultiMapConfig("__vertx.subs").getValueCollectionType()).isEqualTo(MultiMapConfig.ValueCollectionType.SET);
    assertThat(cfg.getMapConfigs()).containsKeys("__vertx.haInfo", "__vertx.nodeInfo", HazelcastSetup.SESSIONS_MAP);
    assertThat(cfg.getMapConfig(HazelcastSetup.SESSIONS_MAP).getBackupCount()).isEqualTo(1);
    // Every member holds every memo entry: a login after a failover reads its own member's copy.
    assertThat(cfg.getReplicatedMapConfigs()).containsKey(HazelcastSetup.MEMO_MAP);
    // After a split brain the merging side's session shares are dropped; each merged member puts its own back.
    assertThat(cfg.getMapConfig(HazelcastSetup.SESSIONS_MAP).getMergePolicyConfig().getPolicy())
        .isEqualTo(DiscardMergePolicy.class.getName());
    // Failure detection and merge timing stay Hazelcast's, so its -Dhazelcast.* system properties apply.
    assertThat(cfg.getProperty("hazelcast.max.no.heartbeat.seconds")).isNull();
    assertThat(cfg.getProperty("hazelcast.merge.next.run.delay.seconds")).isNull();
    assertThat(cfg.getNetworkConfig().getJoin().getMulticastConfig().isEnabled()).isFalse();
    assertThat(cfg.getNetworkConfig().getJoin().getTcpIpConfig().isEnabled()).isTrue();
    assertThat(cfg.getNetworkConfig().getJoin().getTcpIpConfig().getMembers()).isEqualTo(List.of("127.0.0.1:5701"));
    assertThat(cfg.getProperty("hazelcast.wait.seconds.before.join")).isEqualTo("0");
    assertThat(cfg.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
    assertThat(cfg.isLiteMember()).isFalse();
    assertThat(HazelcastSetup.hazelcastConfig(c, true).isLiteMember()).isTrue();
  }
}
