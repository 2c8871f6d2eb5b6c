package dev.vxsocks.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PortRangeTest {

  @Test
  void singlePort() {
    PortRange p = PortRange.parse("k", "443");
    assertThat(p.contains(443)).isTrue();
    assertThat(p.contains(442)).isFalse();
    assertThat(p.contains(444)).isFalse();
    assertThat(p).hasToString("443");
  }

  @Test
  void inclusiveRange() {
    PortRange p = PortRange.parse("k", "1024-65535");
    assertThat(p.contains(1023)).isFalse();
    assertThat(p.contains(1024)).isTrue();
    assertThat(p.contains(30000)).isTrue();
    assertThat(p.contains(65535)).isTrue();
    assertThat(p.contains(65536)).isFalse();
    assertThat(p).hasToString("1024-65535");
  }

  @Test
  void edgesAndSpaces() {
    assertThat(PortRange.parse("k", "0").contains(0)).isTrue();
    assertThat(PortRange.parse("k", "65535").contains(65535)).isTrue();
    assertThat(PortRange.parse("k", "0-0").contains(0)).isTrue();
    PortRange spaced = PortRange.parse("k", " 80 - 90 ");
    assertThat(spaced.contains(80)).isTrue();
    assertThat(spaced.contains(90)).isTrue();
    assertThat(spaced.contains(91)).isFalse();
    assertThat(PortRange.parse("k", "7-7")).hasToString("7");
  }

  @Test
  void errorsNameTheKey() {
    String[] bad = {"", " ", "65536", "-1", "90-80", "1-2-3", "abc", "80-", "-80", "80-x", "99999999999", "1.5", "0x50"};
    for (String text : bad) {
      assertThatThrownBy(() -> PortRange.parse("rules.request[2].ports", text), "\'%s\'", text)
          .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("rules.request[2].ports"));
    }
  }
}
