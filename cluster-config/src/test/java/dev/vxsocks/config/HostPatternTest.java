package dev.vxsocks.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HostPatternTest {

  private static boolean matches(String pattern, String host) {
    return HostPattern.parse("k", pattern).matches(HostPattern.normalize(host));
  }

  @Test
  void exactName() {
    HostPattern p = HostPattern.parse("k", "localhost");
    assertThat(p.isExact()).isTrue();
    assertThat(matches("localhost", "localhost")).isTrue();
    assertThat(matches("localhost", "LOCALHOST.")).isTrue();
    assertThat(matches("localhost", "a.localhost")).isFalse();
    assertThat(matches("localhost", "localhost.localdomain")).isFalse();
    assertThat(matches("api.example.com", "api.example.com")).isTrue();
    assertThat(matches("api.example.com", "example.com")).isFalse();
    assertThat(matches("api.example.com", "x.api.example.com")).isFalse();
    assertThat(p).hasToString("localhost");
  }

  @Test
  void dotSuffix() {
    HostPattern p = HostPattern.parse("k", ".example.com");
    assertThat(p.isExact()).isFalse();
    assertThat(matches(".example.com", "example.com")).isTrue();
    assertThat(matches(".example.com", "a.example.com")).isTrue();
    assertThat(matches(".example.com", "a.b.example.com")).isTrue();
    assertThat(matches(".example.com", "badexample.com")).isFalse();
    assertThat(matches(".example.com", "example.com.evil.net")).isFalse();
    assertThat(matches(".example.com", "example.co")).isFalse();
    assertThat(matches(".example.com", "com")).isFalse();
    assertThat(p).hasToString(".example.com");
  }

  @Test
  void starSuffixIsTheSameAsDotSuffix() {
    HostPattern p = HostPattern.parse("k", "*.example.com");
    assertThat(p.isExact()).isFalse();
    assertThat(matches("*.example.com", "example.com")).isTrue();
    assertThat(matches("*.example.com", "www.example.com")).isTrue();
    assertThat(matches("*.example.com", "wwwexample.com")).isFalse();
    assertThat(p).hasToString(".example.com");
  }

  @Test
  void starAlone() {
    HostPattern p = HostPattern.parse("k", "*");
    assertThat(p.isExact()).isFalse();
    assertThat(matches("*", "anything.at.all")).isTrue();
    assertThat(matches("*", "x")).isTrue();
    assertThat(p).hasToString("*");
  }

  @Test
  void caseAndTrailingDot() {
    assertThat(matches("Example.COM.", "example.com")).isTrue();
    assertThat(matches(".Example.Com", "WWW.EXAMPLE.COM.")).isTrue();
    assertThat(HostPattern.normalize("  Www.Example.Com. ")).isEqualTo("www.example.com");
    assertThat(HostPattern.parse("k", "LocalHost.")).hasToString("localhost");
  }

  @Test
  void errorsNameTheKey() {
    String[] bad = {"", " ", ".", "**", "*.*.com", "exa mple.com", "-bad.com", "bad-.com", "a..b", "http://x",
        "example.com/8", "host:80", "ex*ample.com", "..example.com"};
    for (String text : bad) {
      assertThatThrownBy(() -> HostPattern.parse("rules.request[0].to", text), "\'%s\'", text)
          .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.key()).isEqualTo("rules.request[0].to"));
    }
  }
}
