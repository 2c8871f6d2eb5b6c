package dev.vxsocks.auth;

import dev.vxsocks.config.ConfigException;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The memo's rules on {@link InMemoryVerificationMemo} with a clock the test moves: what matches, for how long, what is stored. */
class VerificationMemoTest {

  private static final byte[] SECRET = "0123456789abcdef0123456789abcdef-test-secret".getBytes(StandardCharsets.US_ASCII);
  private static final String HASH = "$pbkdf2-sha256$i=600000$EBESExQVFhcYGRobHB0eHw$ykMxUYVFttwNeFlvN0rcBGMjuWA8fzmn8wsfLr8Auog";
  private static final String NEW_HASH = "$pbkdf2-sha256$i=600000$ICEiIyQlJicoKSorLC0uLw$DwsWRxVosfneHRMSNbkcBAZt1yxbbFwfKOweX2wduq0";
  private static final Duration TTL = Duration.ofMinutes(10);

  private final AtomicLong now = new AtomicLong(1_700_000_000_000L);
  private final InMemoryVerificationMemo memo = new InMemoryVerificationMemo(MemoSecret.of(SECRET), TTL, now::get);

  private static boolean matches(VerificationMemo m, String name, String hash, String password) {
    Future<Boolean> f = m.check(name, hash, password);
    assertThat(f.succeeded()).as("an in-memory check completes at once").isTrue();
    return f.result();
  }

  @Test
  void aRecordMatchesOnlyItsUserItsStoredHashAndItsPassword() {
    assertThat(matches(memo, "alice", HASH, "wonderland")).isFalse();
    memo.record("alice", HASH, "wonderland");
    assertThat(matches(memo, "alice", HASH, "wonderland")).isTrue();
    assertThat(matches(memo, "alice", HASH, "Wonderland")).isFalse();
    assertThat(matches(memo, "bob", HASH, "wonderland")).isFalse();
    // A new password means a new stored hash: what was verified against the old one never matches it.
    assertThat(matches(memo, "alice", NEW_HASH, "wonderland")).isFalse();
  }

  @Test
  void anEntryExpiresAfterItsLifetime() {
    memo.record("alice", HASH, "wonderland");
    now.addAndGet(TTL.toMillis() - 1);
    assertThat(matches(memo, "alice", HASH, "wonderland")).isTrue();
    now.addAndGet(1);
    assertThat(matches(memo, "alice", HASH, "wonderland")).isFalse();
    // Gone from the store too once something else is written.
    memo.record("bob", NEW_HASH, "builder");
    assertThat(memo.entries()).hasSize(1);
  }

  @Test
  void aDroppedEntryNoLongerMatches() {
    memo.record("alice", HASH, "wonderland");
    memo.record("bob", NEW_HASH, "builder");
    memo.drop("alice");
    assertThat(matches(memo, "alice", HASH, "wonderland")).isFalse();
    assertThat(matches(memo, "bob", NEW_HASH, "builder")).isTrue();
    assertThat(memo.entries()).hasSize(1);
    // Recorded again after the drop (the user logged in again): a fresh entry, not held back as "written lately".
    memo.record("alice", HASH, "wonderland");
    assertThat(matches(memo, "alice", HASH, "wonderland")).isTrue();
  }

  @Test
  void loginsInUseRefreshTheEntryOncePerHalfLifetime() {
    memo.record("alice", HASH, "wonderland");
    Map<String, String> first = memo.entries();
    now.addAndGet(TTL.toMillis() * 4 / 10);
    memo.record("alice", HASH, "wonderland");
    assertThat(memo.entries()).as("no write while more than half the lifetime is left").isEqualTo(first);
    now.addAndGet(TTL.toMillis() * 2 / 10);
    memo.record("alice", HASH, "wonderland");
    assertThat(memo.entries()).isNotEqualTo(first);
    // Lifetime now counts from the last login.
    now.addAndGet(TTL.toMillis() * 9 / 10);
    assertThat(matches(memo, "alice", HASH, "wonderland")).isTrue();
  }

  @Test
  void whatIsStoredRevealsNeitherTheSecretNorTheNameNorThePassword() {
    String password = "correct horse battery staple";
    memo.record("alice", HASH, password);
    assertThat(memo.entries()).hasSize(1);
    Map.Entry<String, String> e = memo.entries().entrySet().iterator().next();
    String stored = e.getKey() + " " + e.getValue();
    for (String secretForm : new String[] {new String(SECRET, StandardCharsets.US_ASCII),
        HexFormat.of().formatHex(SECRET), Base64.getEncoder().encodeToString(SECRET)}) {
      assertThat(stored).doesNotContain(secretForm);
    }
    assertThat(stored).doesNotContain("alice").doesNotContain(password).doesNotContain("wonderland")
        .doesNotContain(HASH).doesNotContain(Base64.getEncoder().encodeToString(password.getBytes(StandardCharsets.UTF_8)));
    // Key: 64 hex digits; value: version, a 32-byte HMAC in Base64, the expiry.
    assertThat(e.getKey()).matches("[0-9a-f]{64}");
    assertThat(e.getValue()).matches("1:[A-Za-z0-9+/]{43}=:" + (now.get() + TTL.toMillis()));
  }

  @Test
  void anotherSecretFindsNothing() {
    InMemoryVerificationMemo other = new InMemoryVerificationMemo(
        MemoSecret.of("another secret of at least thirty-two bytes".getBytes(StandardCharsets.US_ASCII)), TTL, now::get);
    memo.record("alice", HASH, "wonderland");
    other.record("alice", HASH, "wonderland");
    assertThat(other.entries().keySet()).doesNotContainAnyElementsOf(memo.entries().keySet());
    assertThat(other.entries().values()).doesNotContainAnyElementsOf(memo.entries().values());
  }

  @Test
  void aStoreThatFailsIsAMissNotAFailure() {
    VerificationMemo broken = new StoredVerificationMemo(MemoSecret.of(SECRET), TTL, now::get) {
      @Override
      protected Future<String> load(String key) {
        return Future.failedFuture(new IllegalStateException("store down"));
      }

      @Override
      protected void store(String key, String value, long ttlMillis) {
        throw new IllegalStateException("store down");
      }

      @Override
      protected void delete(String key) {
        throw new IllegalStateException("store down");
      }
    };
    broken.record("alice", HASH, "wonderland");
    broken.drop("alice");
    Future<Boolean> f = broken.check("alice", HASH, "wonderland");
    assertThat(f.succeeded()).isTrue();
    assertThat(f.result()).isFalse();
  }

  @Test
  void theSecretFileIsReadWithoutItsTrailingNewlineAndMustBeLongEnough(@TempDir Path dir) throws Exception {
    Path withNewline = Files.write(dir.resolve("a"), (new String(SECRET, StandardCharsets.US_ASCII) + "\n").getBytes(StandardCharsets.US_ASCII));
    Path without = Files.write(dir.resolve("b"), SECRET);
    assertThat(MemoSecret.fromFile(withNewline, "k").fingerprint()).isEqualTo(MemoSecret.fromFile(without, "k").fingerprint())
        .isEqualTo(MemoSecret.of(SECRET).fingerprint()).matches("[0-9a-f]{12}");
    assertThat(MemoSecret.of(SECRET).toString()).doesNotContain(new String(SECRET, StandardCharsets.US_ASCII));
    Path shortFile = Files.writeString(dir.resolve("c"), "too short\n");
    assertThatThrownBy(() -> MemoSecret.fromFile(shortFile, "cluster.memo-secret-file"))
        .isInstanceOfSatisfying(ConfigException.class, e -> {
          assertThat(e.key()).isEqualTo("cluster.memo-secret-file");
          assertThat(e.getMessage()).contains("9 bytes").contains("at least 32");
        });
    assertThatThrownBy(() -> MemoSecret.fromFile(dir.resolve("missing"), "cluster.memo-secret-file"))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.getMessage()).contains("no such file"));
  }
}
