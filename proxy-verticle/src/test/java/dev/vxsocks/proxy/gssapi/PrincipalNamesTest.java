package dev.vxsocks.proxy.gssapi;

import dev.vxsocks.config.GssapiProtection;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static dev.vxsocks.config.GssapiProtection.CONFIDENTIALITY;
import static dev.vxsocks.config.GssapiProtection.INTEGRITY;
import static dev.vxsocks.config.GssapiProtection.NONE;
import static org.assertj.core.api.Assertions.assertThat;

/** Principal names to users, and the protection level answered for each request and configuration. */
class PrincipalNamesTest {

  private static final Set<String> REALMS = Set.of("EXAMPLE.COM");

  @Test
  void oneComponentInAListedRealmIsTheShortName() {
    assertThat(PrincipalNames.toUser("alice@EXAMPLE.COM", REALMS, false)).isEqualTo("alice");
    assertThat(PrincipalNames.toUser("al\\@ice@EXAMPLE.COM", REALMS, false)).isEqualTo("al@ice");
  }

  @Test
  void othersAreRefusedOrKeptWhole() {
    for (String other : List.of("alice@PARTNER.ORG", "alice/admin@EXAMPLE.COM", "HTTP/web@EXAMPLE.COM", "alice",
        "@EXAMPLE.COM", "")) {
      assertThat(PrincipalNames.toUser(other, REALMS, false)).as(other).isNull();
    }
    assertThat(PrincipalNames.toUser("alice@PARTNER.ORG", REALMS, true)).isEqualTo("alice@PARTNER.ORG");
    assertThat(PrincipalNames.toUser("alice/admin@EXAMPLE.COM", REALMS, true)).isEqualTo("alice/admin@EXAMPLE.COM");
    assertThat(PrincipalNames.toUser("x".repeat(300) + "@PARTNER.ORG", REALMS, true)).as("longer than 255 bytes")
        .isNull();
  }

  @Test
  void theClientsLevelWhenListedElseTheFirstListed() {
    List<GssapiProtection> all = List.of(NONE, INTEGRITY, CONFIDENTIALITY);
    assertThat(ProtectionLevels.choose(0, all)).isEqualTo(0);
    assertThat(ProtectionLevels.choose(1, all)).isEqualTo(1);
    assertThat(ProtectionLevels.choose(2, all)).isEqualTo(2);
    assertThat(ProtectionLevels.choose(3, all)).isEqualTo(3);
    assertThat(ProtectionLevels.choose(4, all)).isEqualTo(-1);
    assertThat(ProtectionLevels.choose(255, all)).isEqualTo(-1);

    List<GssapiProtection> protectedOnly = List.of(CONFIDENTIALITY, INTEGRITY);
    assertThat(ProtectionLevels.choose(0, protectedOnly)).isEqualTo(2);
    assertThat(ProtectionLevels.choose(1, protectedOnly)).isEqualTo(1);
    assertThat(ProtectionLevels.choose(3, protectedOnly)).isEqualTo(3);
    assertThat(ProtectionLevels.choose(3, List.of(INTEGRITY, NONE))).isEqualTo(1);
    assertThat(ProtectionLevels.choose(3, List.of(CONFIDENTIALITY))).isEqualTo(2);

    List<GssapiProtection> noneOnly = List.of(NONE);
    for (int requested = 0; requested <= 3; requested++) {
      assertThat(ProtectionLevels.choose(requested, noneOnly)).as("asked " + requested).isZero();
    }
  }
}
