package dev.vxsocks.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PasswordHashTest {

  /** Computed outside Java (Python hashlib.pbkdf2_hmac), salt bytes 00..0f, password "correct horse". */
  static final String CORRECT_HORSE = "$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw$yRTMTwbMbo9G0VfjobWqerzuuxe7BETNTErBbKKumGQ";
  /** Same salt, password "jürgen-€" (UTF-8). */
  static final String UTF8 = "$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw$2FQt3vaS6/ON3mDSbDf4WK2rP6t+cMWhQ17EuZF5xEk";

  @Test
  void createThenVerify() {
    PasswordHash h = PasswordHash.create("s3cret".toCharArray(), 1000);
    assertThat(h.iterations()).isEqualTo(1000);
    assertThat(h.encoded()).matches("\\$pbkdf2-sha256\\$i=1000\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}");
    assertThat(h.verify("s3cret".toCharArray())).isTrue();
    assertThat(h.verify("s3cret ".toCharArray())).isFalse();
    assertThat(h.verify("S3cret".toCharArray())).isFalse();
    assertThat(h.verify(new char[0])).isFalse();
  }

  @Test
  void parseWhatCreateWrote() {
    PasswordHash h = PasswordHash.create("pw".toCharArray(), 1000);
    PasswordHash back = PasswordHash.parse("users[0].password", h.encoded());
    assertThat(back).isEqualTo(h).hasSameHashCodeAs(h);
    assertThat(back.verify("pw".toCharArray())).isTrue();
    assertThat(back.verify("pW".toCharArray())).isFalse();
  }

  @Test
  void saltIsFresh() {
    PasswordHash a = PasswordHash.create("same".toCharArray(), 1000);
    PasswordHash b = PasswordHash.create("same".toCharArray(), 1000);
    assertThat(a.encoded()).isNotEqualTo(b.encoded());
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void verifiesHashesMadeByAnotherImplementation() {
    PasswordHash h = PasswordHash.parse("k", CORRECT_HORSE);
    assertThat(h.iterations()).isEqualTo(1000);
    assertThat(h.verify("correct horse".toCharArray())).isTrue();
    assertThat(h.verify("correct horsE".toCharArray())).isFalse();
    PasswordHash u = PasswordHash.parse("k", UTF8);
    assertThat(u.verify("j\u00fcrgen-\u20ac".toCharArray())).isTrue();
    assertThat(u.verify("jurgen-\u20ac".toCharArray())).isFalse();
  }

  @Test
  void tooFewIterations() {
    assertThatThrownBy(() -> PasswordHash.create("pw".toCharArray(), 999)).isInstanceOf(IllegalArgumentException.class);
    String weak = CORRECT_HORSE.replace("i=1000", "i=999");
    assertThatThrownBy(() -> PasswordHash.parse("users[3].password", weak))
        .isInstanceOfSatisfying(ConfigException.class, e -> {
          assertThat(e.key()).isEqualTo("users[3].password");
          assertThat(e.getMessage()).contains("999").contains("1000");
        });
  }

  @Test
  void parseErrorsNameTheKey() {
    String salt = "AAECAwQFBgcICQoLDA0ODw";
    String hash = "yRTMTwbMbo9G0VfjobWqerzuuxe7BETNTErBbKKumGQ";
    String[] bad = {
        "correct horse",                                        // plain text
        "",
        "$pbkdf2-sha1$i=1000$" + salt + "$" + hash,             // other algorithm
        "$pbkdf2-sha256$1000$" + salt + "$" + hash,             // no i=
        "$pbkdf2-sha256$i=$" + salt + "$" + hash,               // no count
        "$pbkdf2-sha256$i=1000$" + salt,                        // no hash
        "$pbkdf2-sha256$i=1000$" + salt + "$" + hash + "$",     // trailing part
        "$pbkdf2-sha256$i=1000$" + salt + "$" + hash + "==",    // padding is not the format
        "$pbkdf2-sha256$i=1000$AAECAwQFBgcIC$" + hash,          // salt too short
        "$pbkdf2-sha256$i=1000$" + salt + "$yRTMTwbMbo9G0Vfj",  // hash too short
        "$pbkdf2-sha256$i=1000$" + salt + "AAA$" + hash,        // 25 salt chars: not valid Base64
        " " + CORRECT_HORSE,
    };
    for (String text : bad) {
      assertThatThrownBy(() -> PasswordHash.parse("users[0].password", text), "\'%s\'", text)
          .isInstanceOfSatisfying(ConfigException.class, e -> {
            assertThat(e.key()).isEqualTo("users[0].password");
            assertThat(e.getMessage()).startsWith("users[0].password: ");
          });
    }
  }

  @Test
  void plainTextErrorDoesNotEchoThePassword() {
    assertThatThrownBy(() -> PasswordHash.parse("users[0].password", "hunter2"))
        .isInstanceOf(ConfigException.class)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
  }

  @Test
  void toStringHidesTheHash() {
    PasswordHash h = PasswordHash.parse("k", CORRECT_HORSE);
    assertThat(h.toString())
        .doesNotContain(CORRECT_HORSE)
        .doesNotContain("yRTMTwbMbo9G0VfjobWqerzuuxe7BETNTErBbKKumGQ")
        .doesNotContain("yRTMTwbM")
        .doesNotContain("AAECAwQFBgcICQoLDA0ODw")
        .contains("1000");
    PasswordHash c = PasswordHash.create("pw".toCharArray(), 1000);
    String encodedHash = c.encoded().substring(c.encoded().lastIndexOf('$') + 1);
    assertThat(c.toString()).doesNotContain(encodedHash).doesNotContain(c.encoded());
  }
}
