package dev.vxsocks.auth.cluster;

import dev.vxsocks.auth.cluster.UserChanges.Change;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig.User;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What {@code config apply} and a starting node find between a file's users and the cluster's. */
class UserChangesTest {

  private static final PasswordHash OLD = PasswordHash.create("old".toCharArray(), PasswordHash.MIN_ITERATIONS);
  private static final PasswordHash NEW = PasswordHash.create("new".toCharArray(), PasswordHash.MIN_ITERATIONS);

  private static User user(String name, PasswordHash hash, boolean enabled) {
    return new User(name, hash, enabled);
  }

  @Test
  void equalUsersAreNoChange() {
    // The same hash as another PasswordHash instance: entries compare by their encoded hash.
    PasswordHash same = PasswordHash.parse("t", OLD.encoded());
    assertThat(UserChanges.between(List.of(user("alice", OLD, true), user("bob", OLD, false)),
        Map.of("alice", user("alice", same, true), "bob", user("bob", OLD, false)))).isEmpty();
  }

  @Test
  void disabledInTheClusterEnabledInTheFile() {
    Change c = single(UserChanges.between(List.of(user("alice", OLD, true)),
        Map.of("alice", user("alice", OLD, false))));
    assertThat(c.name()).isEqualTo("alice");
    assertThat(c.enabledChanges()).isTrue();
    assertThat(c.newPassword()).isFalse();
    assertThat(c.added()).isFalse();
    assertThat(c.onlyInCluster()).isFalse();
    assertThat(c.difference()).isEqualTo("enabled in the file, disabled in the cluster");
    assertThat(c.effect()).isEqualTo("enabled (was disabled)");
  }

  @Test
  void enabledInTheClusterDisabledInTheFile() {
    Change c = single(UserChanges.between(List.of(user("bob", OLD, false)),
        Map.of("bob", user("bob", OLD, true))));
    assertThat(c.difference()).isEqualTo("disabled in the file, enabled in the cluster");
    assertThat(c.effect()).isEqualTo("disabled (was enabled)");
  }

  @Test
  void anotherPasswordIsReportedWithoutTheHash() {
    Change c = single(UserChanges.between(List.of(user("alice", OLD, true)),
        Map.of("alice", user("alice", NEW, true))));
    assertThat(c.newPassword()).isTrue();
    assertThat(c.enabledChanges()).isFalse();
    assertThat(c.difference()).isEqualTo("another password hash in the file");
    assertThat(c.effect()).isEqualTo("new password");
    for (String line : List.of(c.difference(), c.effect())) {
      assertThat(line).doesNotContain(OLD.encoded()).doesNotContain(NEW.encoded()).doesNotContain("pbkdf2");
    }
  }

  @Test
  void passwordAndStateTogether() {
    Change c = single(UserChanges.between(List.of(user("alice", OLD, true)),
        Map.of("alice", user("alice", NEW, false))));
    assertThat(c.difference())
        .isEqualTo("enabled in the file, disabled in the cluster; another password hash in the file");
    assertThat(c.effect()).isEqualTo("new password, enabled (was disabled)");
  }

  @Test
  void inTheFileOnlyIsAnAddition() {
    List<Change> changes = UserChanges.between(List.of(user("dave", OLD, true), user("erin", OLD, false)), Map.of());
    assertThat(changes).extracting(Change::name).containsExactly("dave", "erin");
    assertThat(changes).allMatch(Change::added);
    assertThat(changes.get(0).difference()).isEqualTo("in the file, not in the cluster");
    assertThat(changes.get(0).effect()).isEqualTo("added");
    assertThat(changes.get(1).difference()).isEqualTo("in the file (disabled), not in the cluster");
    assertThat(changes.get(1).effect()).isEqualTo("added (disabled)");
  }

  @Test
  void inTheClusterOnlyIsKept() {
    Change c = single(UserChanges.between(List.of(), Map.of("carol", user("carol", OLD, true))));
    assertThat(c.onlyInCluster()).isTrue();
    assertThat(c.file()).isNull();
    assertThat(c.difference()).isEqualTo("in the cluster, not in the file");
    assertThat(c.effect()).isEqualTo("kept");
  }

  @Test
  void onlyDifferencesSortedByName() {
    List<Change> changes = UserChanges.between(
        List.of(user("zoe", OLD, true), user("same", OLD, true), user("alice", OLD, true), user("mia", NEW, true)),
        Map.of("same", user("same", OLD, true), "alice", user("alice", OLD, false), "bob", user("bob", OLD, true),
            "mia", user("mia", OLD, true)));
    assertThat(changes).extracting(Change::name).containsExactly("alice", "bob", "mia", "zoe");
  }

  private static Change single(List<Change> changes) {
    assertThat(changes).hasSize(1);
    return changes.get(0);
  }
}
