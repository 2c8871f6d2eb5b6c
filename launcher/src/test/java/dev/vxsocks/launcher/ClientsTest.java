package dev.vxsocks.launcher;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The test harness itself: a missing client is a failure that names the package, and a hung client is killed. */
class ClientsTest {

  @Test
  void aMissingClientFailsNamingItsDebianPackage() {
    assertThatThrownBy(() -> Clients.onPath("vxsocks-no-such-client", "vxsocks-no-such-package"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("vxsocks-no-such-client is not installed")
        .hasMessageContaining("install the Debian package vxsocks-no-such-package");
  }

  @Test
  void theInstalledClientsAreFound() {
    assertThat(Clients.curl()).endsWith("/curl");
    assertThat(Clients.ncat()).endsWith("/ncat");
    assertThat(Clients.pysocksPython()).isEqualTo("/usr/bin/python3");
  }

  @Test
  void aProcessThatOutlivesTheLimitIsKilledAndFails() {
    assertThatThrownBy(() -> Clients.run(List.of("/bin/sleep", "600"), new byte[0], 1))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("did not finish within 1 s, killed");
  }
}
