package dev.vxsocks.auth;

import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.PasswordHash;
import dev.vxsocks.config.ProxyConfig;
import dev.vxsocks.config.ProxyConfig.User;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two nodes' auth verticles (a Vert.x each, users in memory) sharing one {@link InMemoryVerificationMemo}, as cluster
 * nodes share the memo map: a password one node verified is accepted by the other from the memo, and a user given a
 * new password, disabled or removed is dropped from it. Hashes at 1000 iterations: the memo's rules do not depend on
 * the cost.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CredentialMemoTest {

  private static final String OLD_PW = "wonderland";
  private static final String NEW_PW = "looking-glass";
  private static final User ALICE = new User("alice", PasswordHash.create(OLD_PW.toCharArray(), PasswordHash.MIN_ITERATIONS), true);
  private static final User ALICE_NEW = new User("alice", PasswordHash.create(NEW_PW.toCharArray(), PasswordHash.MIN_ITERATIONS), true);

  private final InMemoryVerificationMemo memo = new InMemoryVerificationMemo(
      MemoSecret.of("a test secret of at least thirty-two bytes".getBytes(StandardCharsets.US_ASCII)),
      Duration.ofMinutes(10), System::currentTimeMillis);
  private final Logger memoLog = Logger.getLogger(VerificationMemo.class.getName());
  private final List<String> memoLines = new CopyOnWriteArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord r) {
      memoLines.add(r.getMessage());
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
  };
  private Level memoLevel;
  private Node a;
  private Node b;

  private record Node(Vertx vertx, InMemoryUserStore users, AuthClient client) {
    Verdict login(String name, String password) throws Exception {
      return client.authenticate(name, password, "127.0.0.1").await(30, TimeUnit.SECONDS);
    }
  }

  private Node node() throws Exception {
    Vertx vertx = Vertx.vertx();
    ProxyConfig config = ProxyConfig.fromJson(new JsonObject()
        .put("auth", new JsonObject().put("methods", new JsonArray().add("username-password")))
        .put("users", new JsonArray().add(new JsonObject().put("name", "alice").put("password", ALICE.password().encoded()))));
    InMemoryUserStore users = new InMemoryUserStore(config.users());
    vertx.deployVerticle(new AuthVerticle(config, users, new InMemorySessionLimiter(), memo)).await(20, TimeUnit.SECONDS);
    return new Node(vertx, users, new AuthClient(vertx, Duration.ofSeconds(30)));
  }

  @BeforeEach
  void start() throws Exception {
    memoLevel = memoLog.getLevel();
    memoLog.setLevel(Level.FINE);
    memoLog.addHandler(capture);
    a = node();
    b = node();
  }

  @AfterEach
  void stop() throws Exception {
    memoLog.removeHandler(capture);
    memoLog.setLevel(memoLevel);
    a.vertx().close().await(20, TimeUnit.SECONDS);
    b.vertx().close().await(20, TimeUnit.SECONDS);
  }

  private long memoHits() {
    return memoLines.stream().filter(l -> l.contains("matched the verification memo")).count();
  }

  @Test
  void aPasswordVerifiedOnOneNodeIsAcceptedByAnotherFromTheMemo() throws Exception {
    assertThat(a.login("alice", OLD_PW).allowed()).isTrue();
    assertThat(memo.entries()).hasSize(1);
    assertThat(memoHits()).isZero();
    assertThat(b.login("alice", OLD_PW).allowed()).isTrue();
    assertThat(memoHits()).as("node b took alice from the memo").isEqualTo(1);
    Verdict wrong = b.login("alice", "Wonderland");
    assertThat(wrong.allowed()).isFalse();
    assertThat(wrong.reason()).isEqualTo(Verdict.BAD_CREDENTIALS);
    assertThat(memoHits()).isEqualTo(1);
  }

  @Test
  void aNewPasswordDropsTheEntryAndTheOldPasswordIsRefusedEverywhere() throws Exception {
    assertThat(a.login("alice", OLD_PW).allowed()).isTrue();
    assertThat(memo.entries()).hasSize(1);
    // The cluster's users map changed: every node's store hears of it.
    a.users().replaceAll(List.of(ALICE_NEW));
    b.users().replaceAll(List.of(ALICE_NEW));
    assertThat(memo.entries()).as("dropped on the change").isEmpty();
    assertThat(a.login("alice", OLD_PW).allowed()).isFalse();
    assertThat(b.login("alice", OLD_PW).allowed()).isFalse();
    assertThat(b.login("alice", NEW_PW).allowed()).isTrue();
    assertThat(a.login("alice", NEW_PW).allowed()).isTrue();
    assertThat(memoHits()).as("node a took the new password from the memo").isEqualTo(1);
  }

  @Test
  void anEntryForAnOlderHashNeverMatchesEvenWhenTheDropWasMissed() throws Exception {
    assertThat(a.login("alice", OLD_PW).allowed()).isTrue();
    // Node b learns of the new password, node a's drop never happened (say, the store was unreachable): the entry stays.
    memo.record("alice", ALICE.password().encoded(), OLD_PW);
    b.users().replaceAll(List.of(ALICE_NEW));
    memo.record("alice", ALICE.password().encoded(), OLD_PW);
    assertThat(memo.entries()).hasSize(1);
    assertThat(b.login("alice", OLD_PW).allowed()).isFalse();
    assertThat(memoHits()).isZero();
  }

  @Test
  void aDisabledOrRemovedUserIsDroppedFromTheMemo() throws Exception {
    assertThat(a.login("alice", OLD_PW).allowed()).isTrue();
    a.users().replaceAll(List.of(new User("alice", ALICE.password(), false)));
    assertThat(memo.entries()).isEmpty();
    assertThat(a.login("alice", OLD_PW).reason()).isEqualTo(Verdict.DISABLED);
    a.users().replaceAll(List.of(ALICE));
    assertThat(a.login("alice", OLD_PW).allowed()).isTrue();
    assertThat(memo.entries()).hasSize(1);
    a.users().replaceAll(List.of());
    assertThat(memo.entries()).isEmpty();
  }
}
