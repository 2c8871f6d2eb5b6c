package dev.vxsocks.auth;

import dev.vxsocks.config.CommandName;
import dev.vxsocks.auth.api.AuthAddresses;
import dev.vxsocks.auth.api.AuthClient;
import dev.vxsocks.auth.api.AuthUnavailableException;
import dev.vxsocks.auth.api.AuthorizeRequest;
import dev.vxsocks.auth.api.Verdict;
import dev.vxsocks.config.ProxyConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The auth verticle over the local event bus, driven through {@link AuthClient}. Hashes were computed outside Java
 * (Python hashlib) with 1000 iterations. The unknown-user path always costs one hash at the default cost
 * (600 000 iterations), so the timeouts here are generous; nothing asserts a duration.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class AuthVerticleTest {

  /** Password "wonderland". */
  private static final String ALICE_HASH = "$pbkdf2-sha256$i=1000$EBESExQVFhcYGRobHB0eHw$ykMxUYVFttwNeFlvN0rcBGMjuWA8fzmn8wsfLr8Auog";
  /** Password "carol-pw". */
  private static final String CAROL_HASH = "$pbkdf2-sha256$i=1000$ICEiIyQlJicoKSorLC0uLw$DwsWRxVosfneHRMSNbkcBAZt1yxbbFwfKOweX2wduq0";
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(60);

  static ProxyConfig config(int perUser, int perIp) {
    return ProxyConfig.fromJson(new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 1080))
        .put("auth", new JsonObject().put("methods", "username-password"))
        .put("users", new io.vertx.core.json.JsonArray()
            .add(new JsonObject().put("name", "alice").put("password", ALICE_HASH))
            .add(new JsonObject().put("name", "carol").put("password", CAROL_HASH).put("enabled", false)))
        .put("rules", new JsonObject(
            "{\"client\":[{\"action\":\"allow\",\"from\":[\"127.0.0.0/8\",\"::1/128\"]}],"
                + "\"request\":[{\"action\":\"deny\",\"to\":\"10.0.0.0/8\",\"ports\":\"22\"},"
                + "{\"action\":\"allow\",\"users\":\"alice\",\"to\":[\".example.com\",\"10.0.0.0/8\"]}]}"))
        .put("limits", new JsonObject().put("sessions-per-user", perUser).put("sessions-per-client-ip", perIp)));
  }

  private AuthVerticle verticle;
  private AuthClient client;

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext ctx) {
    ProxyConfig config = config(1, 2);
    verticle = new AuthVerticle(config, new InMemoryUserStore(config.users()), new InMemorySessionLimiter());
    client = new AuthClient(vertx, ASK_TIMEOUT);
    vertx.deployVerticle(verticle).onComplete(ctx.succeedingThenComplete());
  }

  private static void ok(Verdict v, String detail) {
    assertThat(v.allowed()).as("%s", v).isTrue();
    assertThat(v.reason()).isEqualTo(Verdict.OK);
    assertThat(v.detail()).isEqualTo(detail);
  }

  private static void refused(Verdict v, String reason) {
    assertThat(v.allowed()).as("%s", v).isFalse();
    assertThat(v.reason()).isEqualTo(reason);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Credentials.

  @Test
  void goodPassword(VertxTestContext ctx) {
    client.authenticate("alice", "wonderland", "127.0.0.1").onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      ok(v, "verified");
      assertThat(v.toJson().encode()).doesNotContain("wonderland");
      ctx.completeNow();
    })));
  }

  @Test
  void wrongPassword(VertxTestContext ctx) {
    client.authenticate("alice", "Wonderland", "127.0.0.1").onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      refused(v, Verdict.BAD_CREDENTIALS);
      assertThat(v.toJson().encode()).doesNotContain("Wonderland");
      ctx.completeNow();
    })));
  }

  @Test
  void unknownUser(VertxTestContext ctx) {
    client.authenticate("mallory", "wonderland", "127.0.0.1").onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      refused(v, Verdict.BAD_CREDENTIALS);
      assertThat(v.detail()).isEqualTo("unknown user");
      ctx.completeNow();
    })));
  }

  @Test
  void disabledUser(VertxTestContext ctx) {
    client.authenticate("carol", "carol-pw", "127.0.0.1").onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      refused(v, Verdict.DISABLED);
      ctx.completeNow();
    })));
  }

  @Test
  void emptyUserOrPassword(VertxTestContext ctx) {
    Checkpoint both = ctx.checkpoint(2);
    client.authenticate("alice", "", "127.0.0.1").onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      refused(v, Verdict.BAD_CREDENTIALS);
      both.flag();
    })));
    client.authenticate("", "wonderland", "127.0.0.1").onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      refused(v, Verdict.BAD_CREDENTIALS);
      both.flag();
    })));
  }

  @Test
  void secondLoginIsServedFromTheCache(VertxTestContext ctx) {
    client.authenticate("alice", "wonderland", "127.0.0.1")
        .compose(first -> {
          ctx.verify(() -> ok(first, "verified"));
          return client.authenticate("alice", "wonderland", "127.0.0.1");
        })
        .compose(second -> {
          ctx.verify(() -> ok(second, "cached"));
          // The cache remembers a password, not a user: a wrong one is still checked, and refused.
          return client.authenticate("alice", "wonderland!", "127.0.0.1");
        })
        .onComplete(ctx.succeeding(third -> ctx.verify(() -> {
          refused(third, Verdict.BAD_CREDENTIALS);
          ctx.completeNow();
        })));
  }

  @Test
  void disabledUserIsNotServedFromTheCache(Vertx vertx, VertxTestContext ctx) {
    ProxyConfig config = config(0, 0);
    InMemoryUserStore users = new InMemoryUserStore(config.users());
    CredentialChecker checker = new CredentialChecker(vertx, users, Duration.ofMinutes(1), 1000);
    checker.check("alice", "wonderland")
        .compose(first -> {
          ctx.verify(() -> ok(first, "verified"));
          ProxyConfig.User alice = config.users().get(0);
          users.replaceAll(java.util.List.of(new ProxyConfig.User("alice", alice.password(), false)));
          return checker.check("alice", "wonderland");
        })
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          refused(v, Verdict.DISABLED);
          ctx.completeNow();
        })));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Rules.

  @Test
  void authorizeAllowAndDeny(VertxTestContext ctx) {
    Checkpoint answers = ctx.checkpoint(4);
    client.authorize(new AuthorizeRequest("alice", "127.0.0.1", CommandName.CONNECT, "www.example.com", "93.184.216.34", 443))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          ok(v, "rules.request[1]");
          answers.flag();
        })));
    client.authorize(new AuthorizeRequest("alice", "127.0.0.1", CommandName.CONNECT, null, "10.1.2.3", 22))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          refused(v, Verdict.DENIED);
          assertThat(v.detail()).isEqualTo("rules.request[0]");
          answers.flag();
        })));
    client.authorize(new AuthorizeRequest(null, "127.0.0.1", CommandName.CONNECT, "www.example.com", "93.184.216.34", 443))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          refused(v, Verdict.DENIED);
          assertThat(v.detail()).isEqualTo("no request rule matched");
          answers.flag();
        })));
    client.authorize(new AuthorizeRequest("alice", "127.0.0.1", CommandName.CONNECT, "www.example.com", "127.0.0.1", 443))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          refused(v, Verdict.DENIED);
          answers.flag();
        })));
  }

  @Test
  void checkClient(VertxTestContext ctx) {
    Checkpoint answers = ctx.checkpoint(3);
    client.checkClient("127.0.0.1").onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      ok(v, "rules.client[0]");
      answers.flag();
    })));
    client.checkClient("192.0.2.1").onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      refused(v, Verdict.DENIED);
      answers.flag();
    })));
    client.checkClient("localhost").onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      refused(v, Verdict.DENIED);
      answers.flag();
    })));
  }

  @Test
  void applyChangesTheNextAnswer(VertxTestContext ctx) {
    AuthorizeRequest req = new AuthorizeRequest(null, "127.0.0.1", CommandName.CONNECT, null, "93.184.216.34", 443);
    client.authorize(req)
        .compose(before -> {
          ctx.verify(() -> refused(before, Verdict.DENIED));
          verticle.apply(ProxyConfig.defaults());
          return client.authorize(req);
        })
        .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
          ok(after, "no request rules");
          ctx.completeNow();
        })));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Session slots (sessions-per-user 1, sessions-per-client-ip 2).

  @Test
  void authorizeAndOpenTakesTheSlotOnlyWhenTheRulesAllow(VertxTestContext ctx) {
    AuthorizeRequest allowed = new AuthorizeRequest("alice", "127.0.0.1", CommandName.CONNECT, "www.example.com", "93.184.216.34", 443);
    AuthorizeRequest denied = new AuthorizeRequest("alice", "127.0.0.1", CommandName.CONNECT, null, "10.1.2.3", 22);
    client.authorizeAndOpen(denied)
        .compose(first -> {
          ctx.verify(() -> {
            refused(first, Verdict.DENIED);
            assertThat(first.lease()).isNull();
          });
          // The denial took no slot: alice's single slot (limit 1) is still free.
          return client.authorizeAndOpen(allowed);
        })
        .compose(second -> {
          ctx.verify(() -> {
            assertThat(second.allowed()).isTrue();
            assertThat(second.lease()).isNotNull();
          });
          return client.authorizeAndOpen(allowed);
        })
        .onComplete(ctx.succeeding(third -> ctx.verify(() -> {
          refused(third, Verdict.LIMIT);
          assertThat(third.detail()).contains("sessions-per-user");
          ctx.completeNow();
        })));
  }

  @Test
  void sessionOverTheUserLimit(VertxTestContext ctx) {
    client.openSession("alice", "127.0.0.1")
        .compose(first -> {
          ctx.verify(() -> {
            assertThat(first.allowed()).isTrue();
            assertThat(first.lease()).isNotNull();
          });
          return client.openSession("alice", "127.0.0.2");
        })
        .onComplete(ctx.succeeding(second -> ctx.verify(() -> {
          refused(second, Verdict.LIMIT);
          assertThat(second.lease()).isNull();
          assertThat(second.detail()).contains("sessions-per-user").contains("alice");
          assertThat(second.limit()).isEqualTo(Verdict.LIMIT_PER_USER);
          ctx.completeNow();
        })));
  }

  @Test
  void sessionOverTheClientIpLimit(VertxTestContext ctx) {
    client.openSession(null, "127.0.0.9")
        .compose(a -> client.openSession(null, "127.0.0.9"))
        .compose(b -> {
          ctx.verify(() -> assertThat(b.allowed()).isTrue());
          return client.openSession(null, "127.0.0.9");
        })
        .onComplete(ctx.succeeding(c -> ctx.verify(() -> {
          refused(c, Verdict.LIMIT);
          assertThat(c.detail()).contains("sessions-per-client-ip").contains("127.0.0.9");
          assertThat(c.limit()).isEqualTo(Verdict.LIMIT_PER_IP);
          ctx.completeNow();
        })));
  }

  @Test
  void closeFreesTheSlot(VertxTestContext ctx) {
    client.openSession("alice", "127.0.0.1")
        .compose(first -> client.openSession("alice", "127.0.0.1").map(second -> {
          ctx.verify(() -> refused(second, Verdict.LIMIT));
          return first.lease();
        }))
        .compose(lease -> {
          client.closeSession(lease);
          // Sent after the close, to the same verticle: handled after it.
          return client.openSession("alice", "127.0.0.1");
        })
        .onComplete(ctx.succeeding(again -> ctx.verify(() -> {
          assertThat(again.allowed()).as("%s", again).isTrue();
          assertThat(again.lease()).isNotNull();
          ctx.completeNow();
        })));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // No answer.

  @Test
  void noAuthVerticleGivesAuthUnavailable(VertxTestContext ctx) {
    Vertx empty = Vertx.vertx();
    AuthClient lonely = new AuthClient(empty, Duration.ofSeconds(2));
    java.util.List<Future<Verdict>> asked = java.util.List.of(
        lonely.checkClient("127.0.0.1"),
        lonely.authenticate("alice", "wonderland", "127.0.0.1"),
        lonely.authorize(new AuthorizeRequest("alice", "127.0.0.1", CommandName.CONNECT, null, "93.184.216.34", 443)),
        lonely.openSession("alice", "127.0.0.1"));
    Future.join(asked).onComplete(all -> {
      empty.close();
      ctx.verify(() -> {
        for (Future<Verdict> f : asked) {
          assertThat(f.failed()).as("%s", f).isTrue();
          Throwable err = f.cause();
          assertThat(err).isInstanceOf(AuthUnavailableException.class);
          assertThat(err.getMessage()).startsWith("socks5.auth.v1.").doesNotContain("wonderland");
          assertThat(err.getCause()).isInstanceOf(ReplyException.class);
        }
      });
      ctx.completeNow();
    });
  }

  @Test
  void silentAuthVerticleTimesOutAsAuthUnavailable(VertxTestContext ctx) {
    Vertx other = Vertx.vertx();
    // A consumer that never answers.
    other.eventBus().localConsumer(AuthAddresses.AUTHORIZE, m -> { });
    new AuthClient(other, Duration.ofMillis(300))
        .authorize(new AuthorizeRequest(null, "127.0.0.1", CommandName.CONNECT, null, "93.184.216.34", 443))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err).isInstanceOf(AuthUnavailableException.class);
          assertThat(((ReplyException) err.getCause()).failureType()).isEqualTo(ReplyFailure.TIMEOUT);
          other.close();
          ctx.completeNow();
        })));
  }

  @Test
  void failingUserStoreGivesAuthUnavailable(VertxTestContext ctx) {
    Vertx other = Vertx.vertx();
    UserStore broken = name -> Future.failedFuture(new IllegalStateException("store is down"));
    other.deployVerticle(new AuthVerticle(config(0, 0), broken, new InMemorySessionLimiter()))
        .compose(id -> new AuthClient(other, ASK_TIMEOUT).authenticate("alice", "wonderland", "127.0.0.1"))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err).isInstanceOf(AuthUnavailableException.class);
          assertThat(((ReplyException) err.getCause()).failureType()).isEqualTo(ReplyFailure.RECIPIENT_FAILURE);
          assertThat(err.getMessage()).doesNotContain("wonderland");
          other.close();
          ctx.completeNow();
        })));
  }
}
